// A burst of uploads above Rekognition's quota: the local Rekognition answers
// ThrottlingException above 2 requests a second (as AWS does above the account's TPS quota),
// and every image must still end COMPLETED with its labels. The labeling queue holds the
// burst, handing out at most LabelingConcurrency images at once; a throttled image goes back
// to it and is tried again later.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStackProcess, waitForStatus, type StackProcess } from '../support/stack-process.ts';

const chelsea = readFileSync(new URL('../fixtures/chelsea.png', import.meta.url));
const BURST = 12;
const CONCURRENCY = 10; // LabelingConcurrency's default in template.yaml

let stack: StackProcess;
beforeAll(async () => {
  stack = await startStackProcess({ env: { LOCAL_REKOGNITION_TPS: '2' } });
});
afterAll(async () => {
  await stack?.stop();
});

describe('a burst of uploads above the Rekognition quota', () => {
  it('labels every image, none FAILED, by trying throttled ones again later', async () => {
    const blobs = await Promise.all(
      Array.from({ length: BURST }, async () => (await stack.api.POST('/blobs', { body: { content_type: 'image/png' } })).data!),
    );
    const uploads = await Promise.all(
      blobs.map((blob) => fetch(blob.upload_url!, { method: 'PUT', body: chelsea, headers: { 'content-type': 'image/png' } })),
    );
    expect(uploads.map((response) => response.status)).toEqual(blobs.map(() => 200));

    const done = await Promise.all(blobs.map((blob) => waitForStatus(stack, blob.blob_id, ['COMPLETED', 'FAILED'], 180_000)));
    expect(done.map((blob) => blob.invocation_status)).toEqual(blobs.map(() => 'COMPLETED'));
    for (const blob of done) expect(blob.labels).toContain('Cat');

    // The quota really was hit, and the throttled images came back through the queue.
    const stats = (await (await fetch(`${stack.endpoints.rekognition}/_local/stats`)).json()) as {
      errors: Record<string, number>;
      peakInFlight: number;
    };
    expect(stats.errors.ThrottlingException).toBeGreaterThan(0);
    // The queue's MaximumConcurrency held: never more labelers, so DetectLabels calls, at once.
    expect(stats.peakInFlight).toBeLessThanOrEqual(CONCURRENCY);
    expect(stats.peakInFlight).toBeGreaterThan(1);
    expect(stack.logs().filter((line) => line.message === 'Rekognition cannot take it now; trying again later').length).toBeGreaterThan(0);
  }, 240_000);
});
