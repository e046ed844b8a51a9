import { describe, expect, it } from 'vitest';
import { decideCreate, decideExpire, decideLabelingResult, decideLabelingTimeout, decideUpload } from '../../shared/blob/decisions.ts';
import { BlobEvent as BlobEventSchema, currentSchemaVersions, type BlobEvent } from '../../shared/blob/events.ts';
import { ANONYMOUS_OWNER } from '../../shared/blob/owner.ts';
import { evolve, foldBlob, type BlobState } from '../../shared/blob/state.ts';

const blobId = '01JD8Y7N3Q4W5E6R7T8Y9V0K1P';
const t = (second: number) => new Date(Date.UTC(2026, 10, 24, 12, 0, second));
const upload = { bucket: 'uploads', key: `uploads/${blobId}`, expires_at: t(59).toISOString() };
const labeling = { max_labels: 10, min_confidence: 40 };
const image = { width: 451, height: 300, content_type: 'image/png' as const, size_bytes: 1234 };
const cat = { name: 'Cat', confidence: 71.5, parents: ['Animal', 'Pet', 'Mammal'], instances: [] };

type Step = (state: BlobState) => BlobEvent | null;

function play(...steps: Step[]): { events: BlobEvent[]; state: BlobState } {
  return playFrom(decideCreate(blobId, t(0), { upload, labeling, callback_url: 'https://example.com/hook' }), steps);
}

/** The same story for a blob created without a callback_url. */
function playWithoutCallback(...steps: Step[]): { events: BlobEvent[]; state: BlobState } {
  return playFrom(decideCreate(blobId, t(0), { upload, labeling }), steps);
}

function playFrom(created: BlobEvent, steps: Step[]): { events: BlobEvent[]; state: BlobState } {
  const events: BlobEvent[] = [created];
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
      (s) => decideLabelingResult(s, 2, t(2), { labeled: { labels: [cat], model: 'test', image } }),
    );
    expect(labeled.state).toMatchObject({
      invocation_status: 'COMPLETED',
      completed_on: t(2).toISOString(),
      labels: [cat],
      model: 'test',
      image,
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
      (s) => decideLabelingResult(s, 2, t(3), { labeled: { labels: [cat], model: 'test', image } }),
      (s) => decideLabelingResult(s, 2, t(4), { failed: { code: 'LABELING_FAILED', message: 'late' } }),
      (s) => decideUpload(s, t(5), { bucket: 'uploads', key: upload.key, size_bytes: 5 }),
    );
    expect(events.map((e) => e.type)).toEqual(['BlobCreated', 'BlobUploaded', 'BlobLabeled']);
    expect(state.invocation_status).toBe('COMPLETED');
  });

  it('expires a blob never uploaded, only after its URL expired plus the grace period', () => {
    const expiresAt = Date.parse(upload.expires_at);
    const early = play((s) => decideExpire(s, new Date(expiresAt + 9_000), 10));
    expect(early.state.invocation_status).toBe('ACTION_REQUIRED');
    const { state, events } = play((s) => decideExpire(s, new Date(expiresAt + 10_000), 10));
    expect(state).toMatchObject({ invocation_status: 'EXPIRED', expired_on: new Date(expiresAt + 10_000).toISOString(), version: 2 });
    expect(events[1]).toMatchObject({ type: 'BlobExpired', data: { upload_expired_at: upload.expires_at } });
  });

  it('neither expires an uploaded blob nor records an upload of an expired one', () => {
    const late = new Date(Date.parse(upload.expires_at) + 60_000);
    const uploaded = play(
      (s) => decideUpload(s, t(1), { bucket: 'uploads', key: upload.key, size_bytes: 10 }),
      (s) => decideExpire(s, late, 0),
    );
    expect(uploaded.events.map((e) => e.type)).toEqual(['BlobCreated', 'BlobUploaded']);
    const expired = play(
      (s) => decideExpire(s, late, 0),
      (s) => decideUpload(s, late, { bucket: 'uploads', key: upload.key, size_bytes: 10 }),
    );
    expect(expired.events.map((e) => e.type)).toEqual(['BlobCreated', 'BlobExpired']);
  });

  it('fails a labeling that never reported back, once the timeout has passed', () => {
    const upload1 = (s: BlobState) => decideUpload(s, t(1), { bucket: 'uploads', key: upload.key, size_bytes: 10 });
    expect(play(upload1, (s) => decideLabelingTimeout(s, t(30), 30)).state.invocation_status).toBe('IN_PROGRESS');
    const { state } = play(upload1, (s) => decideLabelingTimeout(s, t(31), 30));
    expect(state.failure).toEqual({ code: 'LABELING_FAILED', message: 'Labeling did not finish within 30 s of the upload.' });
    // A result that comes after the timeout changes nothing, and a finished blob never times out.
    const late = play(upload1, (s) => decideLabelingTimeout(s, t(31), 30), (s) => decideLabelingResult(s, 2, t(32), { labeled: { labels: [cat], model: 'test', image } }));
    expect(late.events.map((e) => e.type)).toEqual(['BlobCreated', 'BlobUploaded', 'BlobFailed']);
    const done = play(upload1, (s) => decideLabelingResult(s, 2, t(2), { labeled: { labels: [cat], model: 'test', image } }), (s) => decideLabelingTimeout(s, t(59), 1));
    expect(done.state.invocation_status).toBe('COMPLETED');
    expect(play((s) => decideLabelingTimeout(s, t(59), 1)).state.invocation_status).toBe('ACTION_REQUIRED');
  });

  describe('final events carry the callback_url for routing, exactly when the blob has one', () => {
    const uploadIt: Step = (s) => decideUpload(s, t(1), { bucket: 'uploads', key: upload.key, size_bytes: 10 });
    const hook = { callback_url: 'https://example.com/hook' };
    const late = new Date(Date.parse(upload.expires_at) + 60_000);
    const endings: [string, Step[], Record<string, unknown>][] = [
      ['BlobLabeled', [uploadIt, (s) => decideLabelingResult(s, 2, t(2), { labeled: { labels: [cat], model: 'test', image } })], { labels: [cat], model: 'test', image }],
      ['BlobFailed (labeling)', [uploadIt, (s) => decideLabelingResult(s, 2, t(2), { failed: { code: 'IMAGE_TOO_SMALL', message: 'tiny' } })], { code: 'IMAGE_TOO_SMALL', message: 'tiny' }],
      ['BlobFailed (timeout)', [uploadIt, (s) => decideLabelingTimeout(s, t(31), 30)], { code: 'LABELING_FAILED', message: 'Labeling did not finish within 30 s of the upload.' }],
      ['BlobExpired', [(s) => decideExpire(s, late, 0)], { upload_expired_at: upload.expires_at }],
    ];

    // toStrictEqual: a callback_url key holding undefined would not pass for an absent one.
    it.each(endings)('%s', (_name, steps, data) => {
      const withCallback = play(...steps).events.at(-1)!;
      expect(withCallback.data).toStrictEqual({ ...data, ...hook });
      const withoutCallback = playWithoutCallback(...steps).events.at(-1)!;
      expect(withoutCallback.data).toStrictEqual(data);
      expect(withoutCallback.data).not.toHaveProperty('callback_url');
    });

    it('and nothing else does', () => {
      const { events } = play((s) => decideUpload(s, t(1), { bucket: 'uploads', key: upload.key, size_bytes: 10 }));
      expect(events[1]!.data).not.toHaveProperty('callback_url');
    });

    it.each(endings)('%s is written at schema_version 2 (which added the field) or later', (_name, steps) => {
      const { events } = playWithoutCallback(...steps);
      // Every event is written at the version its type is at now; the final one has the field since 2.
      expect(events.map((e) => e.schema_version)).toEqual(events.map((e) => currentSchemaVersions[e.type]));
      expect(events.at(-1)!.schema_version).toBeGreaterThanOrEqual(2);
    });

    it('and a version 1 final event, written before, still folds', () => {
      const uploaded = play(uploadIt);
      const v1: BlobEvent = {
        blob_id: blobId,
        version: 3,
        type: 'BlobFailed',
        schema_version: 1,
        occurred_at: t(2).toISOString(),
        data: { code: 'IMAGE_TOO_SMALL', message: 'tiny' },
      };
      expect(foldBlob([...uploaded.events, v1])).toMatchObject({ invocation_status: 'FAILED', failure: { code: 'IMAGE_TOO_SMALL', message: 'tiny' } });
    });

    it('without it reaching the folded failure, which API users see as it is', () => {
      const { events, state } = play(uploadIt, (s) => decideLabelingResult(s, 2, t(2), { failed: { code: 'IMAGE_TOO_SMALL', message: 'tiny' } }));
      expect(events.at(-1)!.data).toMatchObject(hook);
      expect(state.failure).toStrictEqual({ code: 'IMAGE_TOO_SMALL', message: 'tiny' });
      expect(state.callback_url).toBe(hook.callback_url);
    });
  });

  describe('the owner', () => {
    it('is recorded by BlobCreated (schema_version 2) and kept through the whole story', () => {
      const created = decideCreate(blobId, t(0), { upload, labeling, owner: 'alice' });
      expect(created.schema_version).toBe(2);
      const { state } = playFrom(created, [
        (s) => decideUpload(s, t(1), { bucket: 'uploads', key: upload.key, size_bytes: 10 }),
        (s) => decideLabelingResult(s, 2, t(2), { labeled: { labels: [cat], model: 'test', image } }),
      ]);
      expect(state).toMatchObject({ owner: 'alice', invocation_status: 'COMPLETED' });
    });

    it("of a log written before owners (a version 1 BlobCreated, read from the log) is the anonymous owner", () => {
      // As the event store stores it: JSON, parsed at the boundary with the event definitions.
      const stored = {
        blob_id: blobId,
        version: 1,
        type: 'BlobCreated',
        schema_version: 1,
        occurred_at: t(0).toISOString(),
        data: { upload, labeling, callback_url: 'https://example.com/hook' },
      };
      const uploaded = {
        blob_id: blobId,
        version: 2,
        type: 'BlobUploaded',
        schema_version: 1,
        occurred_at: t(1).toISOString(),
        data: { bucket: 'uploads', key: upload.key, size_bytes: 10 },
      };
      const log = [stored, uploaded].map((event) => BlobEventSchema.parse(event));
      expect(ANONYMOUS_OWNER).toBe('anonymous');
      expect(foldBlob(log)).toMatchObject({ owner: ANONYMOUS_OWNER, invocation_status: 'IN_PROGRESS', callback_url: 'https://example.com/hook' });
    });

    it('is not something a version 1 event may claim: version 1 had no owner', () => {
      const forged = { blob_id: blobId, version: 1, type: 'BlobCreated', schema_version: 1, occurred_at: t(0).toISOString(), data: { upload, labeling, owner: 'alice' } };
      expect(BlobEventSchema.safeParse(forged).success).toBe(false);
      expect(BlobEventSchema.safeParse({ ...forged, schema_version: 2 }).success).toBe(true);
    });
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
