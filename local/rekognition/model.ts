/**
 * CenterNet (MobileNetV3 backbone, COCO 80 classes) on tfjs + the WASM backend.
 *
 * The weights are the ones @vladmandic/human ships in `models/centernet.{json,bin}`; they are
 * read from disk and handed to tfjs in memory, so nothing is ever fetched from the network.
 * Runs in whatever thread imports it; the pool runs one copy per worker thread.
 */
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModelSync, type GraphModel } from '@tensorflow/tfjs-converter';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { postprocess, type Detection, type PostprocessOptions } from './postprocess.ts';
import type { Letterbox } from './image.ts';

export { MODEL_NAME } from './model-info.ts';
const OUTPUT_NODE = 'tower_0/detections';

/**
 * Floor below which the raw output is noise: on texture photos with no COCO object in them
 * (gravel, a colour chart, a retina scan) the model still scores made-up classes at 0.15-0.25.
 * Requests can raise the bar with MinConfidence but not lower it past this.
 */
export const DEFAULT_POSTPROCESS: PostprocessOptions = {
  minScore: 0.2,
  iouThreshold: 0.5,
  crossClassIouThreshold: 0.9,
};

export interface ModelInput extends Letterbox {
  pixels: Uint8Array;
}

export interface CenterNetModel {
  /** Runs the graph on a letterboxed RGB image; boxes come back as ratios of the original. */
  infer(input: ModelInput): Promise<Detection[]>;
  dispose(): void;
}

export interface LoadModelOptions {
  /** Folder holding centernet.json + centernet.bin; defaults to @vladmandic/human's models/. */
  modelDir?: string;
  postprocess?: Partial<PostprocessOptions>;
}

const require = createRequire(import.meta.url);

export function defaultModelDir(): string {
  // Human's package.json `exports` hides ./package.json, so locate the package via its entry.
  const entry = require.resolve('@vladmandic/human');
  return path.join(path.dirname(entry), '..', 'models');
}

let backendReady: Promise<void> | undefined;

/** One backend per thread. The wasm binaries are loaded from the package folder, not fetched. */
function initBackend(): Promise<void> {
  backendReady ??= (async () => {
    const wasmFile = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm');
    setWasmPaths(path.dirname(wasmFile) + path.sep);
    // Threaded WASM does not work under Node; parallelism comes from worker threads instead.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    tf.enableProdMode();
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs wasm backend failed to initialise');
    await tf.ready();
  })();
  return backendReady;
}

async function loadGraph(modelDir: string): Promise<GraphModel<tf.io.IOHandlerSync>> {
  const [jsonText, weights] = await Promise.all([
    readFile(path.join(modelDir, 'centernet.json'), 'utf8'),
    readFile(path.join(modelDir, 'centernet.bin')),
  ]);
  const json = JSON.parse(jsonText) as tf.io.ModelJSON;
  const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength);
  const artifacts: tf.io.ModelArtifacts = { modelTopology: json.modelTopology, weightSpecs, weightData };
  const model = loadGraphModelSync(tf.io.fromMemorySync(artifacts));
  // The GraphModel keeps the artifacts object it was given (only for save()), so the 4 MB of
  // float16 weight bytes would stay in every worker after being decoded into the WASM heap.
  delete artifacts.weightData;
  return model;
}

/**
 * Raw 0-255 RGB goes in as float32; the graph does its own normalisation. The float32 staging
 * array (3 MB at 512x512) is reused: the WASM backend copies it into its heap synchronously when
 * the tensor is made, so a fresh array per image was only work for the GC.
 */
function inputStager(): (input: ModelInput) => tf.Tensor4D {
  let staging = new Float32Array(0);
  return (input) => {
    const size = input.inputSize;
    if (staging.length !== size * size * 3) staging = new Float32Array(size * size * 3);
    staging.set(input.pixels);
    return tf.tensor4d(staging, [1, size, size, 3]);
  };
}

async function runGraph(
  model: GraphModel<tf.io.IOHandlerSync>,
  toInputTensor: (input: ModelInput) => tf.Tensor4D,
  input: ModelInput,
): Promise<Float32Array> {
  const tensor = toInputTensor(input);
  try {
    const output = model.execute(tensor, OUTPUT_NODE) as tf.Tensor;
    try {
      return (await output.data()) as Float32Array;
    } finally {
      output.dispose();
    }
  } finally {
    tensor.dispose();
  }
}

export async function loadCenterNet(options: LoadModelOptions = {}): Promise<CenterNetModel> {
  await initBackend();
  const model = await loadGraph(options.modelDir ?? defaultModelDir());
  const post: PostprocessOptions = { ...DEFAULT_POSTPROCESS, ...options.postprocess };
  const toInputTensor = inputStager();
  return {
    infer: async (input) => postprocess(await runGraph(model, toInputTensor, input), input, post),
    dispose: () => model.dispose(),
  };
}

/**
 * Runs before real requests. Measured here: the first run takes ~0.3 s (kernel setup,
 * allocation), the second ~0.2 s while V8 tiers up the WASM code, then ~0.17 s steady.
 */
const WARMUP_RUNS = 2;

export async function warmUp(model: CenterNetModel, inputSize: number): Promise<void> {
  const pixels = new Uint8Array(inputSize * inputSize * 3);
  for (let run = 0; run < WARMUP_RUNS; run += 1) {
    await model.infer({ pixels, inputSize, scaledWidth: inputSize, scaledHeight: inputSize });
  }
}
