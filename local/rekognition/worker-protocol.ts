/** Messages between the pool (main thread) and a detector worker. Structured-clone safe. */
import type { Detection, PostprocessOptions } from './postprocess.ts';
import type { ModelInput } from './model.ts';

export interface WorkerConfig {
  modelDir?: string;
  postprocess?: Partial<PostprocessOptions>;
  inputSize: number;
}

export interface DetectRequest {
  type: 'detect';
  id: number;
  input: ModelInput;
}

export type WorkerReply =
  | { type: 'ready'; loadMs: number; warmupMs: number }
  | { type: 'result'; id: number; detections: Detection[]; inferenceMs: number }
  | { type: 'failed'; id: number; message: string }
  | { type: 'fatal'; message: string };
