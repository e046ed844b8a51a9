// `npm run bench`'s quota phase (alone: `npm run bench:quota`): a burst of uploads against a
// Rekognition that allows 2 DetectLabels a second (LOCAL_REKOGNITION_TPS, answering
// ThrottlingException above it, as AWS does above the account's quota). Every image must end
// COMPLETED; the figure is how long the burst took against the quota's own pace (40 images
// at 2 a second cannot take less than 20 s). A report, not a test: it exits 0 whatever the
// figures.
import { readFile } from 'node:fs/promises';
import { createBlob, upload, waitForAll, type BenchImage } from './blob-client.ts';
import { atLeast, atMost, fixed, formatTable, row } from './report.ts';
import { startStackChild } from './stack-child.ts';

const IMAGES = 40;
const TPS = 2;
const TIMEOUT_MS = 600_000;
const TARGET_PACE = 2; // at most twice the quota's own time

const log = (line: string) => console.log(`[bench:quota] ${line}`);

async function main(): Promise<void> {
  const image: BenchImage = {
    name: 'chelsea.png',
    bytes: await readFile(new URL('../tests/fixtures/chelsea.png', import.meta.url)),
    contentType: 'image/png',
  };
  const stack = await startStackChild({ LOCAL_REKOGNITION_TPS: String(TPS) }, process.env.BENCH_STACK_ROOT);
  try {
    const api = stack.endpoints.api;
    const blobs = await Promise.all(Array.from({ length: IMAGES }, () => createBlob(api)));
    const started = Date.now();
    await Promise.all(blobs.map((blob) => upload(blob, image)));
    log(`${IMAGES} images uploaded at once; Rekognition allows ${TPS} DetectLabels a second`);
    const done = await waitForAll(api, blobs.map((blob) => blob.blob_id), TIMEOUT_MS);
    const statuses = [...done.values()];
    const completed = statuses.filter((blob) => blob.invocation_status === 'COMPLETED');
    const failed = statuses.filter((blob) => blob.invocation_status === 'FAILED').length;
    const lastEnd = Math.max(...completed.map((blob) => Date.parse(blob.completed_on!)));
    const seconds = (lastEnd - started) / 1000;
    const quotaSeconds = IMAGES / TPS;
    const stats = (await (await fetch(`${stack.endpoints.rekognition}/_local/stats`)).json()) as {
      detectLabelsCalls: number;
      detectLabelsSucceeded: number;
      errors: Record<string, number>;
    };
    log(
      `${completed.length} COMPLETED, ${failed} FAILED, ${IMAGES - statuses.length} unfinished; DetectLabels: ` +
        `${stats.detectLabelsCalls} calls, ${stats.detectLabelsSucceeded} answered, ${stats.errors.ThrottlingException ?? 0} throttled`,
    );
    const pace = seconds / quotaSeconds;
    console.log(
      `\n${formatTable([
        row(`${IMAGES} images at once, Rekognition quota ${TPS} TPS: COMPLETED`, `${completed.length}/${IMAGES}`, atLeast(completed.length, IMAGES, 'all')),
        row('  FAILED', String(failed), atMost(failed, 0, 'none')),
        row('  upload -> last COMPLETED', fixed(seconds, 1, ' s')),
        row(`  against the quota's own time (${IMAGES} / ${TPS} TPS = ${quotaSeconds} s)`, fixed(pace, 2, 'x'), atMost(pace, TARGET_PACE, `<= ${TARGET_PACE}x`)),
        row('  DetectLabels calls per image (throttled ones included)', fixed(stats.detectLabelsCalls / IMAGES, 1)),
      ])}\n`,
    );
  } finally {
    await stack.stop();
  }
}

try {
  await main();
} catch (error) {
  console.error(`[bench:quota] could not finish: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
}
process.exit(0);
