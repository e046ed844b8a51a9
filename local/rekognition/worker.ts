/**
 * Detector worker: loads CenterNet once, warms it up, then answers `detect` messages one at a
 * time (the pool never sends a second job before the first is answered). From source it starts
 * through worker-entry.mjs, which installs tsx's CommonJS hook for this thread; `npm start`
 * runs the copy local/start.mjs compiled.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadCenterNet, warmUp, type CenterNetModel } from './model.ts';
import { threadTime, threadTimeSince } from './thread-time.ts';
import type { DetectRequest, WorkerConfig, WorkerReply } from './worker-protocol.ts';

function reply(message: WorkerReply): void {
  parentPort?.postMessage(message);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function handle(model: CenterNetModel, pixels: Uint8Array, request: DetectRequest): Promise<void> {
  const started = performance.now();
  const threadBefore = threadTime();
  try {
    const detections = await model.infer({ ...request.letterbox, pixels });
    const inferenceMs = performance.now() - started;
    reply({ type: 'result', id: request.id, detections, inferenceMs, thread: threadTimeSince(threadBefore) });
  } catch (error) {
    reply({ type: 'failed', id: request.id, message: errorMessage(error) });
  }
}

async function main(): Promise<void> {
  if (!parentPort) throw new Error('worker.ts must run inside a worker thread');
  const config = workerData as WorkerConfig;
  const started = performance.now();
  const model = await loadCenterNet(config);
  const loaded = performance.now();
  await warmUp(model, config.inputSize);
  const pixels = new Uint8Array(config.inputSlot);
  parentPort.on('message', (request: DetectRequest) => void handle(model, pixels, request));
  reply({ type: 'ready', loadMs: loaded - started, warmupMs: performance.now() - loaded });
}

// No listener is attached on failure, so the thread winds down and the pool sees it exit.
main().catch((error: unknown) => reply({ type: 'fatal', message: errorMessage(error) }));
