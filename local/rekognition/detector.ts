/**
 * In-process detector: image bytes in, detections out. The server does not use this directly
 * (it goes through the worker pool so inference stays off the main thread); it is the simple
 * entry point for scripts and benchmarks.
 */
import { prepareImage, MODEL_INPUT_SIZE } from './image.ts';
import { loadCenterNet, warmUp, type LoadModelOptions } from './model.ts';
import type { Detection } from './postprocess.ts';

export type { BoundingBox, Detection } from './postprocess.ts';

export interface Detector {
  /** Throws RekognitionError for images Rekognition would refuse (format, size, corrupt data). */
  detect(imageBytes: Uint8Array): Promise<Detection[]>;
  dispose(): void;
}

/** Loads the model once (and warms it up); reuse the returned detector for every image. */
export async function createDetector(options: LoadModelOptions = {}): Promise<Detector> {
  const model = await loadCenterNet(options);
  await warmUp(model, MODEL_INPUT_SIZE);
  return {
    detect: async (imageBytes) => model.infer(await prepareImage(imageBytes, MODEL_INPUT_SIZE)),
    dispose: () => model.dispose(),
  };
}
