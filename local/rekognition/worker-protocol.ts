/** Messages between the pool (main thread) and a detector worker. Structured-clone safe. */
import type { Letterbox } from './image.ts';
import type { Detection, PostprocessOptions } from './postprocess.ts';
import type { ThreadTime } from './thread-time.ts';

export interface WorkerConfig {
  modelDir?: string;
  postprocess?: Partial<PostprocessOptions>;
  inputSize: number;
  /**
   * inputSize * inputSize * 3 bytes shared with the pool: it writes each job's RGB pixels here
   * before posting the job, and leaves it alone until the worker answers. Reusing one slot per
   * worker spares a 768 KB allocation and hand-over per image, which fragmented the heap.
   */
  inputSlot: SharedArrayBuffer;
}

export interface DetectRequest {
  type: 'detect';
  id: number;
  /** Where the photo sits in the pixels now in `inputSlot`. */
  letterbox: Letterbox;
}

export type WorkerReply =
  | { type: 'ready'; loadMs: number; warmupMs: number }
  /** `thread`: the worker thread's CPU and run-queue time during the inference (Linux only). */
  | { type: 'result'; id: number; detections: Detection[]; inferenceMs: number; thread?: ThreadTime | undefined }
  | { type: 'failed'; id: number; message: string }
  | { type: 'fatal'; message: string };
