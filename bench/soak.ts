// The memory soak: many clients doing whole flows (POST /blobs, PUT the image, poll GET until it
// ends) against one stack, its RSS read at every 100 flows ended. What it answers: does the
// stack keep what it had after the first 100 images, or does every image leave memory behind?
// One image in five is junk (a JPEG cut short), so the failure path is soaked too.
// `npm run bench` runs it as its last phase; `npx tsx bench/soak.ts` runs it alone
// (BENCH_SOAK_IMAGES and BENCH_SOAK_CLIENTS change the size).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { createBlob, getBlob, isTerminal, upload, type BenchImage } from './blob-client.ts';
import { atMost, fixed, formatTable, row, type Row } from './report.ts';
import { procStatusMiB, startStackChild, waitForQuiet, type StackChild } from './stack-child.ts';

export interface SoakOptions {
  /** Flows that must end (COMPLETED or FAILED) before the soak stops. */
  images: number;
  /** Concurrent clients, each running one flow after another. */
  clients: number;
  /** RSS is read each time this many more flows have ended. */
  every: number;
  pollMs: number;
  /** Called at each checkpoint (progress lines, diagnostics). */
  onCheckpoint?: (checkpoint: SoakCheckpoint) => void;
}

export interface SoakCheckpoint {
  ended: number;
  rssMiB: number;
  seconds: number;
}

export interface SoakResult {
  checkpoints: SoakCheckpoint[];
  completed: number;
  failed: number;
  /** Flows whose POST or PUT was answered with an error (not counted as labeled). */
  errors: number;
  seconds: number;
  /** RSS once the stack has gone quiet after the last flow. */
  idleRssMiB: number;
  peakRssMiB: number;
}

export const SOAK_DEFAULTS: Omit<SoakOptions, 'onCheckpoint'> = {
  images: Number(process.env.BENCH_SOAK_IMAGES ?? 1000),
  clients: Number(process.env.BENCH_SOAK_CLIENTS ?? 50),
  every: 100,
  pollMs: 250,
};
/** The issue's target: RSS after the last checkpoint within this much of RSS after the first. */
export const SOAK_GROWTH_TARGET_MIB = 50;

/** The bench's images and, after them, a JPEG cut short (labeled FAILED: the decode fails). */
export function soakImages(images: BenchImage[]): BenchImage[] {
  const jpeg = images.find((image) => image.contentType === 'image/jpeg') ?? images[0]!;
  const junk: BenchImage = { name: `${jpeg.name} cut short`, bytes: jpeg.bytes.subarray(0, Math.floor(jpeg.bytes.length / 3)), contentType: jpeg.contentType };
  return [...images, junk];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One flow, to its end. A request the stack answers with an error (on a host this loaded a
 * function may time out) ends the flow as 'ERROR' rather than the soak; a failed poll is retried.
 */
async function flow(apiUrl: string, image: BenchImage, pollMs: number): Promise<string> {
  let blobId: string;
  try {
    const blob = await createBlob(apiUrl);
    await upload(blob, image);
    blobId = blob.blob_id;
  } catch {
    return 'ERROR';
  }
  for (;;) {
    await sleep(pollMs);
    const status = await getBlob(apiUrl, blobId).catch(() => undefined);
    if (status && isTerminal(status)) return status.invocation_status;
  }
}

/**
 * RSS is read under the same load at every checkpoint, so the first and the last compare; a flat
 * series means a high-water mark reached early, a line that keeps rising means a leak.
 */
export async function soak(stack: StackChild, images: BenchImage[], options: SoakOptions): Promise<SoakResult> {
  const started = performance.now();
  const checkpoints: SoakCheckpoint[] = [];
  let issued = 0;
  let ended = 0;
  let completed = 0;
  let failed = 0;
  let errors = 0;
  const client = async () => {
    while (issued < options.images) {
      const image = images[issued % images.length]!;
      issued += 1;
      const status = await flow(stack.endpoints.api, image, options.pollMs);
      ended += 1;
      if (status === 'COMPLETED') completed += 1;
      else if (status === 'ERROR') errors += 1;
      else failed += 1;
      if (ended % options.every === 0) {
        const checkpoint = { ended, rssMiB: procStatusMiB(stack.pid, 'VmRSS'), seconds: (performance.now() - started) / 1000 };
        checkpoints.push(checkpoint);
        options.onCheckpoint?.(checkpoint);
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, client));
  const seconds = (performance.now() - started) / 1000;
  await waitForQuiet(stack.pid);
  return {
    checkpoints,
    completed,
    failed,
    errors,
    seconds,
    idleRssMiB: procStatusMiB(stack.pid, 'VmRSS'),
    peakRssMiB: procStatusMiB(stack.pid, 'VmHWM'),
  };
}

/** RSS after the first checkpoint and after the last, and the growth between them. */
export function soakGrowth(result: SoakResult): { firstEnded: number; firstMiB: number; lastEnded: number; lastMiB: number; growthMiB: number } {
  const first = result.checkpoints[0];
  const last = result.checkpoints.at(-1);
  if (!first || !last) return { firstEnded: 0, firstMiB: Number.NaN, lastEnded: 0, lastMiB: Number.NaN, growthMiB: Number.NaN };
  return { firstEnded: first.ended, firstMiB: first.rssMiB, lastEnded: last.ended, lastMiB: last.rssMiB, growthMiB: last.rssMiB - first.rssMiB };
}

/** Where a process's resident memory is, from /proc/<pid>/smaps: by kind of mapping, MiB. */
export function residentByMapping(pid: number): Record<string, number> {
  const totals: Record<string, number> = {};
  let kind = 'other';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      const name = header[1]!;
      kind = name === '' ? 'anonymous' : name.startsWith('/') ? (name.includes('/node') ? 'node binary' : 'files') : name;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) totals[kind] = (totals[kind] ?? 0) + Number(rss[1]) / 1024;
  }
  return totals;
}

export function soakRows(result: SoakResult): Row[] {
  const growth = soakGrowth(result);
  return [
    row(`soak: stack RSS after ${growth.firstEnded} flows ended (VmRSS)`, fixed(growth.firstMiB, 0, ' MiB')),
    row(`soak: stack RSS after ${growth.lastEnded} flows ended (${result.completed} COMPLETED, ${result.failed} FAILED${result.errors ? `, ${result.errors} refused` : ''})`, fixed(growth.lastMiB, 0, ' MiB')),
    row(
      `soak: RSS growth from ${growth.firstEnded} to ${growth.lastEnded} flows`,
      fixed(growth.growthMiB, 0, ' MiB'),
      atMost(growth.growthMiB, SOAK_GROWTH_TARGET_MIB, `<= ${SOAK_GROWTH_TARGET_MIB} MiB`),
    ),
    row('soak: stack RSS idle after it', fixed(result.idleRssMiB, 0, ' MiB')),
  ];
}

/** The RSS series, one line: a flat tail is a high-water mark, a steady rise a leak. */
export function describeSoak(result: SoakResult, clients: number): string {
  const series = result.checkpoints.map((checkpoint) => `${checkpoint.ended}: ${checkpoint.rssMiB.toFixed(0)}`).join(', ');
  return `soak: ${result.completed + result.failed + result.errors} flows by ${clients} clients in ${result.seconds.toFixed(0)} s; RSS (MiB) by flows ended: ${series}`;
}

async function main(): Promise<void> {
  const { join } = await import('node:path');
  const { readFile } = await import('node:fs/promises');
  const fixtures = new URL('../tests/fixtures/', import.meta.url);
  const names = ['chelsea.png', 'people.jpg', 'horse.png', 'coffee.png'];
  const images = await Promise.all(
    names.map(async (name) => ({
      name,
      bytes: await readFile(join(fixtures.pathname, name)),
      contentType: name.endsWith('.png') ? ('image/png' as const) : ('image/jpeg' as const),
    })),
  );
  const stack = await startStackChild({}, process.env.BENCH_STACK_ROOT);
  try {
    await waitForQuiet(stack.pid, 5000);
    console.log(`[soak] stack idle after start: ${procStatusMiB(stack.pid, 'VmRSS').toFixed(0)} MiB`);
    const result = await soak(stack, soakImages(images), {
      ...SOAK_DEFAULTS,
      onCheckpoint: (c) => console.log(`[soak] ${c.ended} flows ended, ${c.seconds.toFixed(0)} s: RSS ${c.rssMiB.toFixed(0)} MiB`),
    });
    console.log(`[soak] ${describeSoak(result, SOAK_DEFAULTS.clients)}`);
    console.log(`\n${formatTable(soakRows(result))}\n`);
  } finally {
    await stack.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await main();
  } catch (error) {
    console.error(`[soak] could not finish: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
  process.exit(0);
}
