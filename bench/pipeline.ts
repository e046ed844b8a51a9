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
import { DetectorPool } from '../local/rekognition/pool.ts';
import { describeBundles, measureBundles } from './bundles.ts';
import { measureCosts } from './costs.ts';
import { describeRaw, measureRawDetector, type RawDetectorResult } from './raw-detector.ts';
import { atLeast, atMost, fixed, formatTable, median, ms, percentile, row, type Row } from './report.ts';
import { procStatusMiB, startStackChild, threadCpuMs, waitForQuiet, type StackChild } from './stack-child.ts';
import { describeSoak, soak, SOAK_DEFAULTS, soakImages, soakRows, type SoakResult } from './soak.ts';

const FIXTURES = fileURLToPath(new URL('../tests/fixtures/', import.meta.url));
/** Three small PNGs and one 1280x1158 JPEG (people.jpg), cycled. */
const FIXTURE_FILES = ['chelsea.png', 'people.jpg', 'horse.png', 'coffee.png'];
const SEQUENTIAL_ROUNDS = 5; // x4 images = 20 one-at-a-time trips
const BURST_SIZE = 100;
const POST_LOAD: LoadLimits = { clients: 32, maxRequests: 2000, maxMs: 10_000 };
// A client polling every 20 ms spent more of the stack's one thread on GETs than the pipeline
// itself spends per hop (and made the measured latency depend on the poll rate); times come from
// the server's completed_on either way.
const SEQUENTIAL_POLL_MS = 100;
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

interface StackPoolStats {
  workers: number;
  inferences: number;
  meanInferenceMs: number | null;
}

/** The stack's own detector pool, through the local Rekognition's non-AWS stats endpoint. */
async function stackPoolStats(stack: StackChild): Promise<StackPoolStats> {
  const response = await fetch(`${stack.endpoints.rekognition}/_local/stats`);
  const stats = (await response.json()) as { pool: StackPoolStats };
  return stats.pool;
}

/** Mean time inside the stack's workers per image between two readings. */
function insideWorkerMs(before: StackPoolStats, after: StackPoolStats): number {
  const total = (stats: StackPoolStats) => (stats.meanInferenceMs ?? 0) * stats.inferences;
  return (total(after) - total(before)) / Math.max(1, after.inferences - before.inferences);
}

/** One image all the way: PUT, then poll until it ends. Times are the server's completed_on. */
async function oneTrip(apiUrl: string, image: BenchImage): Promise<Trip> {
  const blob = await createBlob(apiUrl);
  const putStart = Date.now();
  await upload(blob, image);
  const putDone = Date.now();
  const ended = await waitUntilTerminal(apiUrl, blob.blob_id, SEQUENTIAL_POLL_MS, TRIP_TIMEOUT_MS);
  return tripOf(ended, putStart, putDone);
}

async function sequentialTrips(apiUrl: string, images: BenchImage[]): Promise<Trip[]> {
  const trips: Trip[] = [];
  for (const image of images) trips.push(await oneTrip(apiUrl, image));
  return trips;
}

/**
 * One image at a time, the raw detector (a pool in this process, as many workers as the stack's)
 * and the pipeline taking turns on each image. The host's speed drifts by 10-25% within minutes
 * (two runs saw inference 16% and 32% slower during the trips than in a raw run a minute before),
 * and taking turns puts both sides of the latency ratio under the same drift.
 */
async function tripsTakingTurns(stack: StackChild, workers: number, images: BenchImage[]): Promise<{ trips: Trip[]; rawMs: number[] }> {
  const pool = new DetectorPool({ workers, maxQueue: workers });
  try {
    await pool.ready();
    for (const image of images.slice(0, FIXTURE_FILES.length)) await pool.detect(image.bytes); // warm-up
    const trips: Trip[] = [];
    const rawMs: number[] = [];
    for (const image of images) {
      // The stack's leftovers from the last trip (the projector's batch) must not slow the raw side.
      await waitForQuiet(stack.pid);
      const started = performance.now();
      await pool.detect(image.bytes);
      rawMs.push(performance.now() - started);
      trips.push(await oneTrip(stack.endpoints.api, image));
    }
    return { trips, rawMs };
  } finally {
    await pool.close();
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

function describeTrips(trips: Trip[], stackInsideWorkerMs: number): string {
  const part = (pick: (trip: Trip) => number) => median(trips.map(pick)).toFixed(0);
  const failed = trips.filter((trip) => trip.status !== 'COMPLETED').length;
  return (
    `pipeline, one at a time (n=${trips.length}${failed ? `, ${failed} not COMPLETED` : ''}), medians: ` +
    `PUT answered ${part((t) => t.putDone - t.putStart)} ms, ` +
    `upload recorded (started_on) ${part((t) => t.startedOn - t.putStart)} ms, ` +
    `started_on -> completed_on ${part((t) => t.completedOn - t.startedOn)} ms ` +
    `(the stack's workers: mean ${stackInsideWorkerMs.toFixed(0)} ms inside a worker)`
  );
}

interface Measurements {
  workers: number;
  stack: StackChild;
  idleRssMiB: number;
  peakRssMiB: number;
  /** The raw detector measured twice, before the trips and after the pipeline burst. */
  rawRuns: RawDetectorResult[];
  /** The raw detector's time per image, measured taking turns with the trips. */
  rawMsBesideTrips: number[];
  /** The raw put rate measured twice, at the start and just before the POST run. */
  rawPutRuns: LoadResult[];
  trips: Trip[];
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
function bestRaw(m: Measurements) {
  const burstRate = Math.max(...m.rawRuns.map((run) => run.burstImages / run.burstSeconds));
  const putRate = Math.max(...m.rawPutRuns.map((run) => run.rate));
  return { burstRate, putRate, burstImages: m.rawRuns[0]!.burstImages };
}

function tableRows(m: Measurements): Row[] {
  const raw = bestRaw(m);
  const detectorMs = median(m.rawMsBesideTrips);
  const tripMs = m.trips.map((trip) => trip.completedOn - trip.putStart);
  const ratio = median(tripMs) / detectorMs;
  const rawRate = raw.burstRate;
  const burstShare = m.burst.imagesPerSecond / rawRate;
  const postShare = m.posts.rate / raw.putRate;
  const pct = (share: number) => fixed(share * 100, 1, '%');
  return [
    row(`detector per image, warm, median (${m.workers} worker${m.workers === 1 ? '' : 's'}, in-process pool, taking turns with the trips)`, ms(detectorMs)),
    row('  the same detector back to back, without pauses (better of 2 separate runs)', ms(Math.min(...m.rawRuns.map((run) => median(run.sequentialMs))))),
    row('upload -> COMPLETED per image, median', ms(median(tripMs))),
    row('upload -> COMPLETED per image, p95', ms(percentile(tripMs, 95))),
    row('pipeline / detector latency (medians)', fixed(ratio, 2, 'x'), atMost(ratio, TARGETS.ratio, `<= ${TARGETS.ratio}x`)),
    row(`pipeline throughput, ${BURST_SIZE} at once (${m.burst.completed} COMPLETED)`, fixed(m.burst.imagesPerSecond, 2, ' img/s')),
    row(`raw detector pool throughput, same ${raw.burstImages} images (better of 2 runs)`, fixed(rawRate, 2, ' img/s')),
    row('pipeline / raw detector throughput', pct(burstShare), atLeast(burstShare, TARGETS.burstShare, '>= 90%')),
    row(`POST /blobs, ${POST_LOAD.clients} clients (${m.posts.ok} ok, ${m.posts.failed} failed)`, fixed(m.posts.rate, 0, ' req/s')),
    row(`raw DynamoDB conditional PutItem, ${POST_LOAD.clients} clients (better of 2 runs)`, fixed(raw.putRate, 0, ' req/s')),
    row('POST /blobs / raw conditional puts', pct(postShare), atLeast(postShare, TARGETS.postShare, '>= 50%')),
    row('stack RSS at idle after start (VmRSS)', fixed(m.idleRssMiB, 0, ' MiB')),
    row('stack peak RSS (VmHWM at the end)', fixed(m.peakRssMiB, 0, ' MiB'), atMost(m.peakRssMiB, TARGETS.peakRssMiB, '<= 400 MiB')),
    row('start to ready (spawn -> ready line)', ms(m.stack.spawnToReadyMs), atMost(m.stack.spawnToReadyMs, TARGETS.readyMs, '<= 3 s')),
    row('  of which ready_ms (reported by the stack)', ms(m.stack.readyMs)),
    ...(m.soak
      ? [
          ...soakRows(m.soak),
          row('stack peak RSS after the soak too (VmHWM)', fixed(m.soak.peakRssMiB, 0, ' MiB'), atMost(m.soak.peakRssMiB, TARGETS.peakRssMiB, '<= 400 MiB')),
        ]
      : []),
  ];
}

async function measure(stack: StackChild, workers: number, images: BenchImage[]): Promise<Measurements> {
  const { pid } = stack;
  const apiUrl = stack.endpoints.api;
  await waitForQuiet(pid, 5000);
  const idleRssMiB = procStatusMiB(pid, 'VmRSS');
  const stackPool = await stackPoolStats(stack);
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
  const rawRuns = [await rawDetector()];
  log(describeRaw(rawRuns[0]!));
  const rawPutRuns = [await rawPuts()];

  await waitForQuiet(pid);
  await sequentialTrips(apiUrl, images); // warm-up: every function and code path once
  await waitForQuiet(pid);
  const poolBefore = await stackPoolStats(stack);
  const { trips, rawMs: rawMsBesideTrips } = await tripsTakingTurns(stack, workers, sequentialImages);
  log(describeTrips(trips, insideWorkerMs(poolBefore, await stackPoolStats(stack))));
  log(`raw detector taking turns with the trips: median ${median(rawMsBesideTrips).toFixed(0)} ms per image`);

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
  return { workers, stack, idleRssMiB, peakRssMiB, rawRuns, rawMsBesideTrips, rawPutRuns, trips, burst, posts, ...(soakResult && { soak: soakResult }) };
}

async function main(): Promise<void> {
  // Before the stack starts, so that its load does not slow the fresh processes.
  console.log(describeBundles(await measureBundles()));
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
