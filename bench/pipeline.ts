// `npm run bench`: how much the pipeline costs on top of the detector, on this machine.
// Starts the local stack as a child process (as `npm start` would run), measures it and the raw
// detector and DynamoDB on the same inputs, and prints a table of figures against targets.
// A report, not a test: it exits 0 whatever the figures. All load goes to 127.0.0.1 and is
// bounded in count and time (the whole run takes about two minutes, then the memory soak
// (bench/soak.ts) about three more; BENCH_SOAK_IMAGES=0 leaves it out).
// BENCH_STACK_ROOT=/path/to/other/checkout runs that checkout's stack instead (before/after
// comparisons; it needs local/start.mjs); the raw detector and DynamoDB figures always come
// from this checkout.
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createBlob,
  getBlob,
  isTerminal,
  postBlobOk,
  tripOf,
  upload,
  waitForAll,
  waitUntilTerminal,
  type BenchImage,
  type BlobStatus,
  type Trip,
} from './blob-client.ts';
import { closedLoop, measureRawConditionalPuts, warmUp, type LoadLimits, type LoadResult } from './load.ts';
import type { DetectorPoolTotals } from '../local/rekognition/pool.ts';
import { describeBundles, measureBundles } from './bundles.ts';
import { measureCosts } from './costs.ts';
import {
  describeRaw,
  describeStages,
  measureRawDetector,
  stageMeans,
  startRawDetector,
  warmUpRaw,
  type RawDetectorResult,
  type StageMeans,
} from './raw-detector.ts';
import { atLeast, atMost, fixed, formatTable, median, ms, percentile, row, type Row } from './report.ts';
import { procStatusMiB, startStackChild, threadCpuMs, waitForQuiet, type StackChild } from './stack-child.ts';
import { describeSoak, soak, SOAK_DEFAULTS, soakImages, soakRows, type SoakResult } from './soak.ts';

const FIXTURES = fileURLToPath(new URL('../tests/fixtures/', import.meta.url));
/** Three small PNGs and one 1280x1158 JPEG (people.jpg), cycled. */
const FIXTURE_FILES = ['chelsea.png', 'people.jpg', 'horse.png', 'coffee.png'];
// x4 images = 20 one-at-a-time trips by default.
const SEQUENTIAL_ROUNDS = Number(process.env.BENCH_LATENCY_ROUNDS ?? 5);
/** BENCH_ONLY=latency: only the one-at-a-time trips against the detector alone (about a minute). */
const LATENCY_ONLY = process.env.BENCH_ONLY === 'latency';
const BURST_SIZE = 100;
const POST_LOAD: LoadLimits = { clients: 32, maxRequests: 2000, maxMs: 10_000 };
// Only a fallback (oneTrip waits for the stack to go quiet instead): GETs while the detector runs
// take CPU from it; times come from the server's completed_on either way.
const SEQUENTIAL_POLL_MS = 100;
/** BENCH_TRIP_POLL_MS=100: the trips' client polls GET /blobs/{id} this often instead (as before 2026-12-05). */
const TRIP_POLL_MS = process.env.BENCH_TRIP_POLL_MS ? Number(process.env.BENCH_TRIP_POLL_MS) : undefined;
const TRIP_TIMEOUT_MS = 30_000;
const BURST_TIMEOUT_MS = 90_000;

const TARGETS = { ratio: 1.15, burstShare: 0.9, postShare: 0.5, peakRssMiB: 400, readyMs: 3000 };

const log = (line: string) => console.log(`[bench] ${line}`);

async function loadImages(): Promise<BenchImage[]> {
  return Promise.all(
    FIXTURE_FILES.map(async (name) => ({
      name,
      bytes: await readFile(join(FIXTURES, name)),
      contentType: name.endsWith('.png') ? ('image/png' as const) : ('image/jpeg' as const),
    })),
  );
}

function cycle(images: BenchImage[], count: number): BenchImage[] {
  return Array.from({ length: count }, (_, i) => images[i % images.length]!);
}

interface StackRekognitionStats {
  detectLabelsSucceeded: number;
  detectLabelsMs: number;
  s3Reads: number;
  s3ReadMs: number;
  pool: { workers: number; totals: DetectorPoolTotals };
}

/** The stack's local Rekognition and its detector pool, through its non-AWS stats endpoint. */
async function stackRekognitionStats(stack: StackChild): Promise<StackRekognitionStats> {
  const response = await fetch(`${stack.endpoints.rekognition}/_local/stats`);
  return (await response.json()) as StackRekognitionStats;
}

/** The stack's stages per image between two readings: its detector's, and DetectLabels around it. */
interface StackStages extends StageMeans {
  /** From DetectLabels' request body read to its answer (S3 read, decode, queue, inference, labels). */
  detectLabelsMs: number;
  s3ReadMs: number;
}

function stackStages(before: StackRekognitionStats, after: StackRekognitionStats): StackStages {
  const per = (sum: number, count: number) => (count > 0 ? sum / count : Number.NaN);
  return {
    ...stageMeans(before.pool.totals, after.pool.totals),
    detectLabelsMs: per(after.detectLabelsMs - before.detectLabelsMs, after.detectLabelsSucceeded - before.detectLabelsSucceeded),
    s3ReadMs: per(after.s3ReadMs - before.s3ReadMs, after.s3Reads - before.s3Reads),
  };
}

/**
 * The projection queue's batching window (template.yaml, MaximumBatchingWindowInSeconds: 1) and a
 * margin: a trip's projector batch runs this long after its upload, so the next turn starts after it.
 */
const PROJECTION_WINDOW_MS = 1200;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One image all the way: PUT, then nothing until the stack has gone quiet, then one GET. Times
 * are the server's started_on and completed_on, so the client need not watch. A client polling
 * every 100 ms made the stack answer two or three GETs during each inference, 20-35 ms of CPU
 * that the detector competes for on a busy host (bench/README.md, 2026-12-05): that is the
 * client's load, not the pipeline's. BENCH_TRIP_POLL_MS brings the polling client back.
 */
async function oneTrip(stack: StackChild, image: BenchImage): Promise<Trip> {
  const apiUrl = stack.endpoints.api;
  const blob = await createBlob(apiUrl);
  const putStart = Date.now();
  await upload(blob, image);
  const putDone = Date.now();
  if (TRIP_POLL_MS) return tripOf(await waitUntilTerminal(apiUrl, blob.blob_id, TRIP_POLL_MS, TRIP_TIMEOUT_MS), putStart, putDone);
  await sleep(PROJECTION_WINDOW_MS);
  await waitForQuiet(stack.pid, TRIP_TIMEOUT_MS);
  const seen = await getBlob(apiUrl, blob.blob_id);
  const ended = isTerminal(seen) ? seen : await waitUntilTerminal(apiUrl, blob.blob_id, SEQUENTIAL_POLL_MS, TRIP_TIMEOUT_MS);
  return tripOf(ended, putStart, putDone);
}

async function sequentialTrips(stack: StackChild, images: BenchImage[]): Promise<Trip[]> {
  const trips: Trip[] = [];
  for (const image of images) trips.push(await oneTrip(stack, image));
  return trips;
}

interface TurnsResult {
  trips: Trip[];
  /** The detector alone, in its own process, per image, taking turns with the trips. */
  rawMs: number[];
  rawStages: StageMeans;
  stackStages: StackStages;
}

/**
 * One image at a time, the detector alone (in a process of its own, as many workers as the
 * stack's) and the pipeline taking turns on each image. The host's speed drifts by 10-25% within
 * minutes (two runs saw inference 16% and 32% slower during the trips than in a raw run a minute
 * before), and taking turns puts both sides of the latency ratio under the same drift.
 */
async function tripsTakingTurns(stack: StackChild, workers: number, images: BenchImage[]): Promise<TurnsResult> {
  const detector = await startRawDetector(workers, workers);
  try {
    await warmUpRaw(detector, images.slice(0, FIXTURE_FILES.length));
    const trips: Trip[] = [];
    const rawMs: number[] = [];
    let rawFirst: DetectorPoolTotals | undefined;
    let rawLast: DetectorPoolTotals | undefined;
    const stackBefore = await stackRekognitionStats(stack);
    for (const image of images) {
      // The stack's leftovers from the last trip (the projector's batch) must not slow the raw side.
      await waitForQuiet(stack.pid);
      const timing = await detector.detect(image.bytes);
      rawMs.push(timing.ms);
      rawFirst ??= timing.totals;
      rawLast = timing.totals;
      trips.push(await oneTrip(stack, image));
    }
    const stackAfter = await stackRekognitionStats(stack);
    return { trips, rawMs, rawStages: stageMeans(rawFirst!, rawLast!), stackStages: stackStages(stackBefore, stackAfter) };
  } finally {
    await detector.close();
  }
}

interface BurstResult {
  completed: number;
  seconds: number;
  imagesPerSecond: number;
  /** The stack's CPU per image over the burst: its main thread, and every other thread. */
  mainThreadMsPerImage: number;
  otherThreadsMsPerImage: number;
}

/** Every image at once through the pipeline, as the raw detector's warm-up sends every image at once to its pool. */
async function concurrentWarmUp(apiUrl: string, images: BenchImage[]): Promise<void> {
  const blobs = await Promise.all(images.map(() => createBlob(apiUrl)));
  await Promise.all(blobs.map((blob, i) => upload(blob, images[i]!)));
  await waitForAll(apiUrl, blobs.map((blob) => blob.blob_id), BURST_TIMEOUT_MS);
}

/** POST every blob first (not timed), then PUT them all at once; time runs to the last completed_on. */
async function pipelineBurst(stack: StackChild, images: BenchImage[]): Promise<BurstResult> {
  const apiUrl = stack.endpoints.api;
  const blobs: BlobStatus[] = [];
  for (let i = 0; i < images.length; i += 10) {
    blobs.push(...(await Promise.all(images.slice(i, i + 10).map(() => createBlob(apiUrl)))));
  }
  await waitForQuiet(stack.pid); // the BlobCreated events go through the pipe and projector first
  const cpuBefore = threadCpuMs(stack.pid);
  const firstPut = Date.now();
  await Promise.all(blobs.map((blob, i) => upload(blob, images[i]!)));
  // No polling while the burst runs: 100 clients asking every 100 ms would bill the pipeline for
  // thousands of GETs. The times come from completed_on, so reading the results later loses nothing.
  await waitForQuiet(stack.pid, BURST_TIMEOUT_MS);
  const cpuAfter = threadCpuMs(stack.pid);
  const ended = await waitForAll(apiUrl, blobs.map((blob) => blob.blob_id), BURST_TIMEOUT_MS);
  const completed = [...ended.values()].filter((blob) => blob.invocation_status === 'COMPLETED');
  const last = Math.max(...completed.map((blob) => Date.parse(blob.completed_on!)));
  const seconds = (last - firstPut) / 1000;
  return {
    completed: completed.length,
    seconds,
    imagesPerSecond: completed.length / seconds,
    mainThreadMsPerImage: (cpuAfter.main - cpuBefore.main) / images.length,
    otherThreadsMsPerImage: (cpuAfter.others - cpuBefore.others) / images.length,
  };
}

interface PostResult extends LoadResult {
  /** The stack's main-thread CPU per POST inside the run, and what it still did after (work that fell behind). */
  mainThreadMsDuring: number;
  mainThreadMsAfter: number;
}

/**
 * As the raw puts: a warm-up of the same load first, then the measured run once the stack is
 * quiet. The CPU the stack spends after the run shows whether the rate was bought by letting
 * the downstream (pipe, bus, projector) fall behind.
 */
async function postThroughput(stack: StackChild): Promise<PostResult> {
  const post = () => postBlobOk(stack.endpoints.api);
  await warmUp(POST_LOAD, post);
  await waitForQuiet(stack.pid);
  const before = threadCpuMs(stack.pid).main;
  const result = await closedLoop(POST_LOAD, post);
  const ended = threadCpuMs(stack.pid).main;
  await waitForQuiet(stack.pid);
  const drained = threadCpuMs(stack.pid).main;
  return { ...result, mainThreadMsDuring: (ended - before) / result.ok, mainThreadMsAfter: (drained - ended) / result.ok };
}

function describeTrips(trips: Trip[], stages: StackStages): string {
  const part = (pick: (trip: Trip) => number) => median(trips.map(pick)).toFixed(0);
  const failed = trips.filter((trip) => trip.status !== 'COMPLETED').length;
  return (
    `pipeline, one at a time (n=${trips.length}${failed ? `, ${failed} not COMPLETED` : ''}), medians: ` +
    `PUT answered ${part((t) => t.putDone - t.putStart)} ms, ` +
    `upload recorded (started_on) ${part((t) => t.startedOn - t.putStart)} ms, ` +
    `started_on -> completed_on ${part((t) => t.completedOn - t.startedOn)} ms; ` +
    `the stack's means: DetectLabels ${stages.detectLabelsMs.toFixed(0)} ms (` +
    `${Number.isNaN(stages.s3ReadMs) ? 'image inline (Image.Bytes)' : `S3 read ${stages.s3ReadMs.toFixed(1)} ms`}, ${describeStages(stages)})`
  );
}

interface Measurements {
  workers: number;
  stack: StackChild;
  idleRssMiB: number;
  peakRssMiB: number;
  /** The detector alone (own process) and the trips, taking turns. */
  turns: TurnsResult;
  /** Absent with BENCH_ONLY=latency. */
  throughput?: ThroughputMeasurements;
}

interface ThroughputMeasurements {
  /** The raw detector measured twice, before the trips and after the pipeline burst. */
  rawRuns: RawDetectorResult[];
  /** The raw put rate measured twice, at the start and just before the POST run. */
  rawPutRuns: LoadResult[];
  burst: BurstResult;
  posts: PostResult;
  /** Absent when BENCH_SOAK_IMAGES=0. */
  soak?: SoakResult;
}

/**
 * This machine's speed drifts over a run (shared host), so each raw throughput figure is measured
 * twice and the ratios use the better one: drift can then make a ratio look worse, never better.
 * (The raw latency is measured taking turns with the trips instead.)
 */
function bestRaw(m: ThroughputMeasurements) {
  const burstRate = Math.max(...m.rawRuns.map((run) => run.burstImages / run.burstSeconds));
  const putRate = Math.max(...m.rawPutRuns.map((run) => run.rate));
  return { burstRate, putRate, burstImages: m.rawRuns[0]!.burstImages };
}

function latencyRows(m: Measurements): Row[] {
  const detectorMs = median(m.turns.rawMs);
  const tripMs = m.turns.trips.map((trip) => trip.completedOn - trip.putStart);
  const ratio = median(tripMs) / detectorMs;
  return [
    row(`detector alone per image, warm, median (${m.workers} worker${m.workers === 1 ? '' : 's'}, its own process, taking turns with the trips)`, ms(detectorMs)),
    row('  of which inside a worker (mean): alone / in the stack', `${ms(m.turns.rawStages.inferenceMs)} / ${ms(m.turns.stackStages.inferenceMs)}`),
    ...(m.throughput
      ? [row('  the same detector back to back, without pauses (better of 2 separate runs)', ms(Math.min(...m.throughput.rawRuns.map((run) => median(run.sequentialMs)))))]
      : []),
    row('upload -> COMPLETED per image, median', ms(median(tripMs))),
    row('upload -> COMPLETED per image, p95', ms(percentile(tripMs, 95))),
    row('pipeline / detector alone, latency (medians)', fixed(ratio, 2, 'x'), atMost(ratio, TARGETS.ratio, `<= ${TARGETS.ratio}x`)),
  ];
}

function throughputRows(m: ThroughputMeasurements): Row[] {
  const raw = bestRaw(m);
  const rawRate = raw.burstRate;
  const burstShare = m.burst.imagesPerSecond / rawRate;
  const postShare = m.posts.rate / raw.putRate;
  const pct = (share: number) => fixed(share * 100, 1, '%');
  return [
    row(`pipeline throughput, ${BURST_SIZE} at once (${m.burst.completed} COMPLETED)`, fixed(m.burst.imagesPerSecond, 2, ' img/s')),
    row(`raw detector pool throughput, same ${raw.burstImages} images (better of 2 runs)`, fixed(rawRate, 2, ' img/s')),
    row('pipeline / raw detector throughput', pct(burstShare), atLeast(burstShare, TARGETS.burstShare, '>= 90%')),
    row(`POST /blobs, ${POST_LOAD.clients} clients (${m.posts.ok} ok, ${m.posts.failed} failed)`, fixed(m.posts.rate, 0, ' req/s')),
    row(`raw DynamoDB conditional PutItem, ${POST_LOAD.clients} clients (better of 2 runs)`, fixed(raw.putRate, 0, ' req/s')),
    row('POST /blobs / raw conditional puts', pct(postShare), atLeast(postShare, TARGETS.postShare, '>= 50%')),
  ];
}

function tableRows(m: Measurements): Row[] {
  const soakResult = m.throughput?.soak;
  return [
    ...latencyRows(m),
    ...(m.throughput ? throughputRows(m.throughput) : []),
    row('stack RSS at idle after start (VmRSS)', fixed(m.idleRssMiB, 0, ' MiB')),
    row('stack peak RSS (VmHWM at the end)', fixed(m.peakRssMiB, 0, ' MiB'), atMost(m.peakRssMiB, TARGETS.peakRssMiB, '<= 400 MiB')),
    row('start to ready (spawn -> ready line)', ms(m.stack.spawnToReadyMs), atMost(m.stack.spawnToReadyMs, TARGETS.readyMs, '<= 3 s')),
    row('  of which ready_ms (reported by the stack)', ms(m.stack.readyMs)),
    ...(soakResult
      ? [
          ...soakRows(soakResult),
          row('stack peak RSS after the soak too (VmHWM)', fixed(soakResult.peakRssMiB, 0, ' MiB'), atMost(soakResult.peakRssMiB, TARGETS.peakRssMiB, '<= 400 MiB')),
        ]
      : []),
  ];
}

async function measure(stack: StackChild, workers: number, images: BenchImage[]): Promise<Measurements> {
  const { pid } = stack;
  const apiUrl = stack.endpoints.api;
  await waitForQuiet(pid, 5000);
  const idleRssMiB = procStatusMiB(pid, 'VmRSS');
  const stackPool = (await stackRekognitionStats(stack)).pool;
  if (stackPool.workers !== workers) log(`warning: the stack runs ${stackPool.workers} detector workers, the bench pool ${workers}`);
  log(`stack ready in ${stack.spawnToReadyMs.toFixed(0)} ms (ready_ms ${stack.readyMs}); idle RSS ${idleRssMiB.toFixed(0)} MiB`);

  const sequentialImages = cycle(images, images.length * SEQUENTIAL_ROUNDS);
  const burstImages = cycle(images, BURST_SIZE);
  const rawDetector = () => measureRawDetector(workers, images, SEQUENTIAL_ROUNDS, burstImages);
  const rawPuts = async () => {
    const result = await measureRawConditionalPuts(POST_LOAD);
    log(`raw conditional puts: ${result.ok} in ${result.seconds.toFixed(1)} s (${result.failed} failed)`);
    return result;
  };
  const rawRuns: RawDetectorResult[] = [];
  const rawPutRuns: LoadResult[] = [];
  if (!LATENCY_ONLY) {
    rawRuns.push(await rawDetector());
    log(describeRaw(rawRuns[0]!));
    rawPutRuns.push(await rawPuts());
  }

  await waitForQuiet(pid);
  await sequentialTrips(stack, images); // warm-up: every function and code path once
  await waitForQuiet(pid);
  const turns = await tripsTakingTurns(stack, workers, sequentialImages);
  log(describeTrips(turns.trips, turns.stackStages));
  log(`detector alone (own process) taking turns with the trips: median ${median(turns.rawMs).toFixed(0)} ms per image; ${describeStages(turns.rawStages)}`);
  if (LATENCY_ONLY) return { workers, stack, idleRssMiB, peakRssMiB: procStatusMiB(pid, 'VmHWM'), turns };

  console.log(await measureCosts(stack, images));

  await concurrentWarmUp(apiUrl, images);
  await waitForQuiet(pid);
  const burst = await pipelineBurst(stack, burstImages);
  log(
    `pipeline burst: ${burst.completed}/${BURST_SIZE} COMPLETED in ${burst.seconds.toFixed(1)} s; stack CPU per image: ` +
      `main thread ${burst.mainThreadMsPerImage.toFixed(0)} ms, other threads ${burst.otherThreadsMsPerImage.toFixed(0)} ms ` +
      `(detector workers included); peak RSS so far ${procStatusMiB(pid, 'VmHWM').toFixed(0)} MiB`,
  );
  rawRuns.push(await rawDetector());
  log(`again, ${describeRaw(rawRuns[1]!)}`);

  await waitForQuiet(pid);
  rawPutRuns.push(await rawPuts());
  const posts = await postThroughput(stack);
  log(
    `POST /blobs: ${posts.ok} in ${posts.seconds.toFixed(1)} s (${posts.failed} failed); stack main thread per POST: ` +
      `${posts.mainThreadMsDuring.toFixed(2)} ms during the run, ${posts.mainThreadMsAfter.toFixed(2)} ms after it (work that fell behind)`,
  );
  const peakRssMiB = procStatusMiB(pid, 'VmHWM');

  // Last, so that it leaves the other phases' figures alone.
  let soakResult: SoakResult | undefined;
  if (SOAK_DEFAULTS.images > 0) {
    await waitForQuiet(pid);
    soakResult = await soak(stack, soakImages(images), SOAK_DEFAULTS);
    log(describeSoak(soakResult, SOAK_DEFAULTS.clients));
  }
  return { workers, stack, idleRssMiB, peakRssMiB, turns, throughput: { rawRuns, rawPutRuns, burst, posts, ...(soakResult && { soak: soakResult }) } };
}

async function main(): Promise<void> {
  // Before the stack starts, so that its load does not slow the fresh processes.
  if (!LATENCY_ONLY) console.log(describeBundles(await measureBundles()));
  const workers = Number(process.env.DETECTOR_WORKERS ?? Math.min(2, availableParallelism()));
  const images = await loadImages();
  // The bench measures the pipeline, not the API's per-route throttle (ThrottlingRateLimit),
  // which 32 clients posting at once would otherwise meet.
  const stack = await startStackChild(
    { DETECTOR_WORKERS: String(workers), THROTTLING_BURST_LIMIT: '100000', THROTTLING_RATE_LIMIT: '100000' },
    process.env.BENCH_STACK_ROOT,
  );
  try {
    const measurements = await measure(stack, workers, images);
    console.log(`\n${formatTable(tableRows(measurements))}\n`);
  } finally {
    const ended = await stack.stop();
    if (ended === 'killed') log('the stack did not exit within 10 s of SIGTERM; it was killed');
  }
}

try {
  await main();
} catch (error) {
  console.error(`[bench] could not finish: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
}
process.exit(0);
