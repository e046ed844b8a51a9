/**
 * A small pool of detector worker threads.
 *
 * - Each worker loads CenterNet once and stays warm; one job per worker at a time.
 * - Image validation and letterboxing run in sharp (libuv thread pool), so the main thread only
 *   shuffles buffers and the API server sharing the process stays responsive.
 * - Images are decoded just ahead of need: at most one prepared image per worker waits, so a
 *   backlog holds compressed bytes, not 786 KB pixel buffers, and libvips decodes at most
 *   `workers` images at once (each decode's scratch memory stays in malloc's arenas).
 * - Pixels reach a worker through its own shared input slot, copied in when the job is handed
 *   over: no buffer is allocated or transferred per image.
 * - Admission is bounded: at most `workers + maxQueue` requests are in flight; beyond that
 *   `detect` fails fast with a ThrottlingException instead of growing an unbounded backlog.
 */
import { Worker } from 'node:worker_threads';
import { prepareImage, MODEL_INPUT_SIZE } from './image.ts';
import { RekognitionError } from './errors.ts';
import { silentLogger, type Logger } from './logger.ts';
import { threadTime, threadTimeSince, type ThreadTime } from './thread-time.ts';
import type { ModelInput } from './model.ts';
import type { Detection, PostprocessOptions } from './postprocess.ts';
import type { DetectRequest, WorkerConfig, WorkerReply } from './worker-protocol.ts';

export interface DetectorPoolOptions {
  /** Worker threads, each with its own model copy (~100 MB). Default 2. */
  workers?: number;
  /** Requests allowed to wait for a busy worker before new ones are throttled. Default 32. */
  maxQueue?: number;
  logger?: Logger;
  /** Folder with centernet.json/.bin; defaults to the copy inside @vladmandic/human. */
  modelDir?: string;
  postprocess?: Partial<PostprocessOptions>;
  /**
   * The worker's entry module. Default: worker-entry.mjs, which compiles worker.ts with tsx;
   * `npm start` passes the worker it compiled ahead (local/start.mjs).
   */
  workerEntry?: URL;
}

export interface DetectorPoolStats {
  workers: number;
  readyWorkers: number;
  busyWorkers: number;
  /** Images waiting for a free worker (prepared or not yet). */
  queued: number;
  /** Admitted requests not yet finished (being decoded, queued or running). */
  inFlight: number;
  maxQueue: number;
  /** Model runs that finished, successfully or not. */
  inferences: number;
  throttled: number;
  /** Mean time inside a worker per image (model + post-processing), ms. */
  meanInferenceMs: number | null;
  /**
   * Running sums since start, so a caller can difference two readings into per-stage figures.
   * `threadTimed` counts the inferences that came with the worker thread's own CPU and
   * run-queue times (Linux only); the two `inference*` thread sums cover only those.
   */
  totals: DetectorPoolTotals;
}

export interface DetectorPoolTotals {
  /** Images decoded and letterboxed (successfully or not), and the time that took (sharp, libuv's pool). */
  prepared: number;
  prepareMs: number;
  inferences: number;
  inferenceMs: number;
  threadTimed: number;
  /** Of inferenceMs: the worker thread on a CPU, and ready but waiting for one. */
  inferenceCpuMs: number;
  inferenceRunQueueMs: number;
  /**
   * While inferences ran: CPU of the pool's own (main) thread, and of the whole process less the
   * worker's. Overlapping inferences count it twice, so read these one image at a time.
   */
  mainThreadCpuMsDuringInference: number;
  otherCpuMsDuringInference: number;
}

export const DEFAULT_WORKERS = 2;
export const DEFAULT_MAX_QUEUE = 32;

const SOURCE_WORKER_ENTRY = new URL('./worker-entry.mjs', import.meta.url);

/**
 * V8's default young generation (two 16 MB semi-spaces) is sized for allocation-heavy JS; a
 * detector worker allocates little JS per image (pixels and tensors live in the WASM heap), yet
 * the default let each worker keep ~30 MB of nursery resident. Measured per image over 60 images:
 * GC time 0.4 ms by default, 0.9 ms at 16 MB, 1.6 ms at 8 MB, 2.2 ms at 4 MB, against ~180 ms
 * of inference; 8 MB keeps that under 1% and saves ~20 MB per worker.
 */
const WORKER_RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 8 };

interface Job {
  id: number;
  resolve(detections: Detection[]): void;
  reject(error: Error): void;
}

interface WaitingJob extends Job {
  imageBytes: Uint8Array;
}

interface PreparedJob extends Job {
  input: ModelInput;
}

/** Readings taken when a job is handed to a worker, to learn what the rest of the process did meanwhile. */
interface RunningJob extends PreparedJob {
  mainThread: ThreadTime | undefined;
  process: NodeJS.CpuUsage;
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  /** The worker's input slot (shared memory); written only while the worker has no job. */
  input: Uint8Array;
  ready: boolean;
  job: RunningJob | undefined;
  started: Deferred;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody may be awaiting yet; the rejection is still delivered through ready().
  promise.catch(() => {});
  return { promise, resolve, reject };
}

function intAtLeast(value: number | undefined, fallback: number, name: string, min: number): number {
  const result = value ?? fallback;
  if (!Number.isInteger(result) || result < min) throw new RangeError(`${name} must be an integer >= ${min}`);
  return result;
}

function internalError(message: string): RekognitionError {
  return new RekognitionError('InternalServerError', message);
}

export class DetectorPool {
  readonly size: number;
  readonly maxQueue: number;
  private readonly logger: Logger;
  private readonly workerEntry: URL;
  private readonly config: Omit<WorkerConfig, 'inputSlot'>;
  private readonly slots = new Set<Slot>();
  /** Admitted, not decoded yet, in arrival order. */
  private readonly waiting: WaitingJob[] = [];
  /** Decoded and waiting for a free worker. */
  private readonly prepared: PreparedJob[] = [];
  private preparing = 0;
  private readonly startup: Promise<void>;
  private nextJobId = 1;
  private inFlight = 0;
  private readonly totals: DetectorPoolTotals = {
    prepared: 0,
    prepareMs: 0,
    inferences: 0,
    inferenceMs: 0,
    threadTimed: 0,
    inferenceCpuMs: 0,
    inferenceRunQueueMs: 0,
    mainThreadCpuMsDuringInference: 0,
    otherCpuMsDuringInference: 0,
  };
  private throttled = 0;
  private closing = false;

  constructor(options: DetectorPoolOptions = {}) {
    this.size = intAtLeast(options.workers, DEFAULT_WORKERS, 'workers', 1);
    this.maxQueue = intAtLeast(options.maxQueue, DEFAULT_MAX_QUEUE, 'maxQueue', 0);
    this.logger = options.logger ?? silentLogger;
    this.workerEntry = options.workerEntry ?? SOURCE_WORKER_ENTRY;
    this.config = { modelDir: options.modelDir, postprocess: options.postprocess, inputSize: MODEL_INPUT_SIZE };
    const initial = Array.from({ length: this.size }, () => this.spawn());
    this.startup = Promise.all(initial.map((slot) => slot.started.promise)).then(() => undefined);
    this.startup.catch(() => {});
  }

  /** Resolves once every initial worker has loaded and warmed up its model. */
  ready(): Promise<void> {
    return this.startup;
  }

  /** Detect objects in a JPEG/PNG. Rejects with RekognitionError (throttling, bad image, ...). */
  async detect(imageBytes: Uint8Array): Promise<Detection[]> {
    this.admit();
    try {
      if (this.slots.size === 0) throw internalError('No detector worker is running');
      return await new Promise<Detection[]>((resolve, reject) => {
        this.waiting.push({ id: this.nextJobId++, imageBytes, resolve, reject });
        this.prepareAhead();
      });
    } finally {
      this.inFlight -= 1;
    }
  }

  stats(): DetectorPoolStats {
    const slots = [...this.slots];
    return {
      workers: slots.length,
      readyWorkers: slots.filter((s) => s.ready).length,
      busyWorkers: slots.filter((s) => s.job).length,
      queued: this.waiting.length + this.preparing + this.prepared.length,
      inFlight: this.inFlight,
      maxQueue: this.maxQueue,
      inferences: this.totals.inferences,
      throttled: this.throttled,
      meanInferenceMs: this.totals.inferences > 0 ? this.totals.inferenceMs / this.totals.inferences : null,
      totals: { ...this.totals },
    };
  }

  /** Fails queued and running jobs, then terminates every worker. Idempotent. */
  async close(): Promise<void> {
    this.closing = true;
    const error = internalError('The local detector is shutting down');
    this.failQueued(error);
    const slots = [...this.slots];
    slots.forEach((slot) => slot.job?.reject(error));
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
    this.slots.clear();
  }

  private admit(): void {
    if (this.closing) throw internalError('The local detector is shut down');
    if (this.inFlight >= this.size + this.maxQueue) {
      this.throttled += 1;
      throw new RekognitionError('ThrottlingException', 'Rate exceeded: the local detector queue is full');
    }
    this.inFlight += 1;
  }

  /** Decodes waiting images while fewer than one per worker is decoded or being decoded. */
  private prepareAhead(): void {
    while (this.waiting.length > 0 && this.preparing + this.prepared.length < this.size) {
      const { imageBytes, ...job } = this.waiting.shift()!;
      this.preparing += 1;
      const started = performance.now();
      const prepared = () => {
        this.preparing -= 1;
        this.totals.prepared += 1;
        this.totals.prepareMs += performance.now() - started;
      };
      prepareImage(imageBytes, MODEL_INPUT_SIZE).then(
        (input) => {
          prepared();
          if (this.closing || this.slots.size === 0) {
            job.reject(internalError(this.closing ? 'The local detector is shutting down' : 'No detector worker is running'));
            return;
          }
          this.prepared.push({ ...job, input });
          this.dispatch();
        },
        (error: Error) => {
          prepared();
          job.reject(error);
          this.prepareAhead();
        },
      );
    }
  }

  private failQueued(error: Error): void {
    this.waiting.splice(0).forEach((job) => job.reject(error));
    this.prepared.splice(0).forEach((job) => job.reject(error));
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (!slot.ready || slot.job) continue;
      const job = this.prepared.shift();
      if (!job) break;
      slot.job = { ...job, mainThread: threadTime(), process: process.cpuUsage() };
      const { pixels, inputSize, scaledWidth, scaledHeight } = job.input;
      slot.input.set(pixels);
      const request: DetectRequest = { type: 'detect', id: job.id, letterbox: { inputSize, scaledWidth, scaledHeight } };
      slot.worker.postMessage(request);
    }
    this.prepareAhead();
  }

  private spawn(): Slot {
    const inputSlot = new SharedArrayBuffer(this.config.inputSize * this.config.inputSize * 3);
    const workerData: WorkerConfig = { ...this.config, inputSlot };
    // execArgv: [] — a parent started by tsx or vitest passes loader flags a worker must not
    // inherit; worker-entry.mjs installs tsx for the worker itself, a compiled entry needs none.
    const worker = new Worker(this.workerEntry, {
      workerData,
      execArgv: [],
      resourceLimits: WORKER_RESOURCE_LIMITS,
      stdout: true,
      stderr: true,
      name: 'rekognition-detector',
    });
    const slot: Slot = { worker, input: new Uint8Array(inputSlot), ready: false, job: undefined, started: deferred() };
    this.slots.add(slot);
    worker.on('message', (reply: WorkerReply) => this.onReply(slot, reply));
    worker.on('error', (error) => this.logger.error('detector worker error', { error: error.message }));
    worker.on('exit', (code) => this.onExit(slot, code));
    // Whatever tfjs prints goes to the injected logger, never to our stdout.
    worker.stdout.on('data', (chunk: Buffer) => this.logger.debug('detector worker stdout', { text: String(chunk) }));
    worker.stderr.on('data', (chunk: Buffer) => this.logger.warn('detector worker stderr', { text: String(chunk) }));
    return slot;
  }

  private onReply(slot: Slot, reply: WorkerReply): void {
    switch (reply.type) {
      case 'ready':
        slot.ready = true;
        slot.started.resolve();
        this.logger.info('detector worker ready', { loadMs: reply.loadMs, warmupMs: reply.warmupMs });
        this.dispatch();
        return;
      case 'fatal':
        slot.started.reject(internalError(`Detector worker failed to start: ${reply.message}`));
        void slot.worker.terminate();
        return;
      case 'result':
      case 'failed':
        this.finishJob(slot, reply);
        return;
    }
  }

  private finishJob(slot: Slot, reply: Extract<WorkerReply, { type: 'result' | 'failed' }>): void {
    const job = slot.job;
    slot.job = undefined;
    if (job?.id === reply.id) {
      this.totals.inferences += 1;
      if (reply.type === 'result') {
        this.totals.inferenceMs += reply.inferenceMs;
        const mainThread = threadTimeSince(job.mainThread);
        if (reply.thread && mainThread) {
          const processCpu = process.cpuUsage(job.process);
          this.totals.threadTimed += 1;
          this.totals.inferenceCpuMs += reply.thread.cpuMs;
          this.totals.inferenceRunQueueMs += reply.thread.runQueueMs;
          this.totals.mainThreadCpuMsDuringInference += mainThread.cpuMs;
          this.totals.otherCpuMsDuringInference += (processCpu.user + processCpu.system) / 1000 - reply.thread.cpuMs - mainThread.cpuMs;
        }
        job.resolve(reply.detections);
      } else {
        job.reject(internalError(`Detection failed: ${reply.message}`));
      }
    }
    this.dispatch();
  }

  private onExit(slot: Slot, code: number): void {
    this.slots.delete(slot);
    if (this.closing) return;
    const error = internalError(`Detector worker exited unexpectedly (code ${code})`);
    slot.started.reject(error);
    slot.job?.reject(error);
    this.logger.error('detector worker exited', { code, wasReady: slot.ready });
    // Replace a worker that had been healthy; one that never started would just fail again.
    if (slot.ready) this.spawn();
    if (this.slots.size === 0) this.failQueued(error);
    else this.dispatch();
  }
}

export function createDetectorPool(options: DetectorPoolOptions = {}): DetectorPool {
  return new DetectorPool(options);
}
