import { describe, expect, it } from 'vitest';
import { decideCreate, decideLabelingResult, decideUpload } from '../../shared/blob/decisions.ts';
import type { BlobEvent } from '../../shared/blob/events.ts';
import { evolve, foldBlob, type BlobState } from '../../shared/blob/state.ts';

const blobId = '01JD8Y7N3Q4W5E6R7T8Y9V0K1P';
const t = (second: number) => new Date(Date.UTC(2026, 10, 24, 12, 0, second));
const upload = { bucket: 'uploads', key: `uploads/${blobId}`, expires_at: t(59).toISOString() };
const cat = { name: 'Cat', confidence: 71.5, parents: ['Animal', 'Pet', 'Mammal'], instances: [] };

function play(...steps: ((state: BlobState) => BlobEvent | null)[]): { events: BlobEvent[]; state: BlobState } {
  const events: BlobEvent[] = [decideCreate(blobId, t(0), { upload, callback_url: 'https://example.com/hook' })];
  for (const step of steps) {
    const event = step(foldBlob(events)!);
    if (event) events.push(event);
  }
  return { events, state: foldBlob(events)! };
}

describe('the blob fold', () => {
  it('starts in ACTION_REQUIRED with the request time and callback', () => {
    const { state } = play();
    expect(state).toMatchObject({
      blob_id: blobId,
      version: 1,
      invocation_status: 'ACTION_REQUIRED',
      requested_on: t(0).toISOString(),
      callback_url: 'https://example.com/hook',
      upload,
    });
    expect(state.started_on).toBeUndefined();
  });

  it('goes IN_PROGRESS on upload, then COMPLETED with labels', () => {
    const uploaded = play((s) => decideUpload(s, t(1), { bucket: 'uploads', key: upload.key, size_bytes: 10 }));
    expect(uploaded.state).toMatchObject({ invocation_status: 'IN_PROGRESS', started_on: t(1).toISOString(), version: 2 });

    const labeled = play(
      (s) => decideUpload(s, t(1), { bucket: 'uploads', key: upload.key, size_bytes: 10 }),
      (s) => decideLabelingResult(s, 2, t(2), { labeled: { labels: [cat], model: 'test' } }),
    );
    expect(labeled.state).toMatchObject({
      invocation_status: 'COMPLETED',
      completed_on: t(2).toISOString(),
      labels: [cat],
      model: 'test',
      version: 3,
    });
    expect(labeled.events.map((e) => [e.type, e.version])).toEqual([
      ['BlobCreated', 1],
      ['BlobUploaded', 2],
      ['BlobLabeled', 3],
    ]);
  });

  it('records a failure with its reason code', () => {
    const { state } = play(
      (s) => decideUpload(s, t(1), { bucket: 'uploads', key: upload.key, size_bytes: 10 }),
      (s) => decideLabelingResult(s, 2, t(2), { failed: { code: 'INVALID_IMAGE_FORMAT', message: 'not an image' } }),
    );
    expect(state.invocation_status).toBe('FAILED');
    expect(state.failure).toEqual({ code: 'INVALID_IMAGE_FORMAT', message: 'not an image' });
    expect(state.completed_on).toBe(t(2).toISOString());
  });

  it('ignores a second upload and a late or duplicate labeling result', () => {
    const { events, state } = play(
      (s) => decideUpload(s, t(1), { bucket: 'uploads', key: upload.key, size_bytes: 10 }),
      (s) => decideUpload(s, t(2), { bucket: 'uploads', key: upload.key, size_bytes: 99 }),
      (s) => decideLabelingResult(s, 2, t(3), { labeled: { labels: [cat], model: 'test' } }),
      (s) => decideLabelingResult(s, 2, t(4), { failed: { code: 'LABELING_FAILED', message: 'late' } }),
      (s) => decideUpload(s, t(5), { bucket: 'uploads', key: upload.key, size_bytes: 5 }),
    );
    expect(events.map((e) => e.type)).toEqual(['BlobCreated', 'BlobUploaded', 'BlobLabeled']);
    expect(state.invocation_status).toBe('COMPLETED');
  });

  it('has no blob for a log that does not begin with BlobCreated', () => {
    const orphan: BlobEvent = {
      blob_id: blobId,
      version: 2,
      type: 'BlobUploaded',
      schema_version: 1,
      occurred_at: t(1).toISOString(),
      data: { bucket: 'uploads', key: upload.key, size_bytes: 1 },
    };
    expect(foldBlob([orphan])).toBeUndefined();
    expect(foldBlob([])).toBeUndefined();
    expect(evolve(undefined, orphan)).toBeUndefined();
  });
});
