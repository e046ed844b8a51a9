// The detector on its own, in a separate process (bench/detector-process.ts): the same
// DetectorPool the stack runs, with the same number of workers, fed the same image bytes, and
// nothing else in that process. This is the reference the pipeline is held to: in the bench's
// own process the detector would share a process (and its V8 platform threads, GC and event
// loop) with the bench client, and the stack's detector shares one with the whole stack.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DetectorPoolTotals } from '../local/rekognition/pool.ts';
import type { BenchImage } from './blob-client.ts';
import { median } from './report.ts';

export type DetectorChildRequest =
  | { type: 'detect'; id: number; image: Uint8Array }
  | { type: 'burst'; id: number; images: Uint8Array[] };

export type DetectorChildReply =
  | { type: 'ready'; pid: number }
  | { type: 'detected'; id: number; ms: number; totals: DetectorPoolTotals }
  | { type: 'burst'; id: number; seconds: number; totals: DetectorPoolTotals }
  | { type: 'failed'; id: number; message: string };

const CHILD_ENTRY = fileURLToPath(new URL('./detector-process.ts', import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface RawTiming {
  /** detect() in the detector's process: decode + letterbox (sharp) + worker. */
  ms: number;
  totals: DetectorPoolTotals;
}

/** The detector's process, ready (its workers warm). */
export interface RawDetector {
  pid: number;
  detect(image: Uint8Array): Promise<RawTiming>;
  /** Every image at once; resolves with the seconds until the last was answered. */
  burst(images: Uint8Array[]): Promise<{ seconds: number; totals: DetectorPoolTotals }>;
  close(): Promise<void>;
}

export async function startRawDetector(workers: number, maxQueue: number): Promise<RawDetector> {
  // Plain node with tsx, no flags of the stack's: the detector as anyone would run it alone.
  const child: ChildProcess = fork(CHILD_ENTRY, [], {
    cwd: PROJECT_ROOT,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, DETECTOR_WORKERS: String(workers), DETECTOR_MAX_QUEUE: String(maxQueue) },
    serialization: 'advanced', // image bytes cross as Uint8Array, not JSON
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve(reply: DetectorChildReply): void; reject(error: Error): void }>();
  let nextId = 1;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the detector process exited (${code}) before it was ready`)));
    child.on('message', (reply: DetectorChildReply) => {
      if (reply.type === 'ready') return resolve(reply.pid);
      const waiter = pending.get(reply.id);
      pending.delete(reply.id);
      if (reply.type === 'failed') waiter?.reject(new Error(`raw detector: ${reply.message}`));
      else waiter?.resolve(reply);
    });
  });
  child.once('exit', () => pending.forEach((waiter) => waiter.reject(new Error('the detector process exited'))));
  const ask = (request: DetectorChildRequest) =>
    new Promise<DetectorChildReply>((resolve, reject) => {
      pending.set(request.id, { resolve, reject });
      child.send(request);
    });
  const pid = await ready;
  return {
    pid,
    detect: async (image) => {
      const reply = await ask({ type: 'detect', id: nextId++, image });
      if (reply.type !== 'detected') throw new Error(`unexpected reply ${reply.type}`);
      return { ms: reply.ms, totals: reply.totals };
    },
    burst: async (images) => {
      const reply = await ask({ type: 'burst', id: nextId++, images });
      if (reply.type !== 'burst') throw new Error(`unexpected reply ${reply.type}`);
      return { seconds: reply.seconds, totals: reply.totals };
    },
    close: async () => {
      if (child.exitCode === null && child.connected) child.disconnect();
      await exited;
    },
  };
}

/** Per-image means of the detector's own stages between two readings of its totals. */
export interface StageMeans {
  prepareMs: number;
  inferenceMs: number;
  /** Of inferenceMs, the worker thread on a CPU and waiting for one (NaN off Linux). */
  cpuMs: number;
  runQueueMs: number;
  /** Meanwhile, the rest of the detector's process: its main thread, and its other threads. */
  mainThreadCpuMs: number;
  otherCpuMs: number;
}

export function stageMeans(before: DetectorPoolTotals, after: DetectorPoolTotals): StageMeans {
  const per = (sum: keyof DetectorPoolTotals, count: keyof DetectorPoolTotals) => {
    const n = after[count] - before[count];
    return n > 0 ? (after[sum] - before[sum]) / n : Number.NaN;
  };
  return {
    prepareMs: per('prepareMs', 'prepared'),
    inferenceMs: per('inferenceMs', 'inferences'),
    cpuMs: per('inferenceCpuMs', 'threadTimed'),
    runQueueMs: per('inferenceRunQueueMs', 'threadTimed'),
    mainThreadCpuMs: per('mainThreadCpuMsDuringInference', 'threadTimed'),
    otherCpuMs: per('otherCpuMsDuringInference', 'threadTimed'),
  };
}

export function describeStages(stages: StageMeans): string {
  return (
    `decode ${stages.prepareMs.toFixed(0)} ms, inside a worker ${stages.inferenceMs.toFixed(0)} ms ` +
    `(on a CPU ${stages.cpuMs.toFixed(0)} ms, waiting for one ${stages.runQueueMs.toFixed(0)} ms; meanwhile the process's ` +
    `main thread ${stages.mainThreadCpuMs.toFixed(1)} ms of CPU, its other threads ${stages.otherCpuMs.toFixed(1)} ms)`
  );
}

export interface RawDetectorResult {
  /** Per-image detect() time, one at a time, warm. */
  sequentialMs: number[];
  sequentialStages: StageMeans;
  burstImages: number;
  burstSeconds: number;
}

/** Every image once through both workers' paths (sharp, JIT) before anything is timed. */
export async function warmUpRaw(detector: RawDetector, images: BenchImage[]): Promise<void> {
  await detector.burst(images.map((image) => image.bytes));
  for (const image of images) await detector.detect(image.bytes);
}

/** A fresh detector process: warm-up, `rounds` of the images one at a time, then the burst. */
export async function measureRawDetector(
  workers: number,
  sequentialImages: BenchImage[],
  rounds: number,
  burstImages: BenchImage[],
): Promise<RawDetectorResult> {
  // The queue must hold the whole burst: the raw figure is the detector's, not its admission limit's.
  const detector = await startRawDetector(workers, burstImages.length);
  try {
    await warmUpRaw(detector, sequentialImages);
    const sequentialMs: number[] = [];
    let first: DetectorPoolTotals | undefined;
    let last: DetectorPoolTotals | undefined;
    for (let i = 0; i < rounds * sequentialImages.length; i += 1) {
      const timing = await detector.detect(sequentialImages[i % sequentialImages.length]!.bytes);
      sequentialMs.push(timing.ms);
      // The first image's totals are the baseline, so it is left out of the stage means.
      first ??= timing.totals;
      last = timing.totals;
    }
    const { seconds } = await detector.burst(burstImages.map((image) => image.bytes));
    return { sequentialMs, sequentialStages: stageMeans(first!, last!), burstImages: burstImages.length, burstSeconds: seconds };
  } finally {
    await detector.close();
  }
}

export function describeRaw(result: RawDetectorResult): string {
  return (
    `raw detector (own process): median ${median(result.sequentialMs).toFixed(0)} ms per image (n=${result.sequentialMs.length}; ` +
    `${describeStages(result.sequentialStages)}), burst ${result.burstImages} in ${result.burstSeconds.toFixed(1)} s`
  );
}
