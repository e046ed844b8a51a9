// ExpireBlobsFunction, its Middy chain and all, on its sample (the schedule's event). The log
// is the in-memory event store. The read model, which only says which blobs may need settling
// (a DynamoDB query), is a fake at its module seam that lists the candidates a test names:
// the sweep must check each against the log, so a stale candidate is part of the test.
import type { ScheduledEvent } from 'aws-lambda';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/expire-blobs.ts';
import { InMemoryEventStore } from '../../../shared/event-store/in-memory-event-store.ts';
import type { BlobRow } from '../../../shared/read-model/index.ts';
import { at, blobCreated, blobExpired, blobLabeled, blobUploaded, newBlobId } from '../../support/blob-events.ts';
import { lambdaContext, sample } from '../../support/lambda.ts';

const fakes = vi.hoisted(() => ({
  store: undefined as unknown as InMemoryEventStore,
  /** The blob ids the read model lists, and the cutoffs the sweep asked it for. */
  waiting: [] as string[],
  inProgress: [] as string[],
  cutoffs: [] as string[],
}));
vi.mock(import('../../../shared/event-store/index.ts'), async (original) => ({ ...(await original()), eventStore: () => fakes.store }));
vi.mock(import('../../../shared/read-model/index.ts'), async (original) => {
  async function* rows(ids: string[], cutoff: string) {
    fakes.cutoffs.push(cutoff);
    // The sweep reads only the blob id of a row.
    for (const blob_id of ids) yield { blob_id } as BlobRow;
  }
  const projection = {
    waitingSince: (cutoff: string) => rows(fakes.waiting, cutoff),
    inProgressSince: (cutoff: string) => rows(fakes.inProgress, cutoff),
  };
  return { ...(await original()), blobProjection: () => projection as unknown as import('../../../shared/read-model/index.ts').BlobProjection };
});

const context = lambdaContext('ExpireBlobsFunction');
const scheduled = () => sample<ScheduledEvent>('expire-blobs.scheduled.json');
const sweep = () => handler(scheduled(), context) as Promise<{ expired: number; timedOut: number }>;
const types = async (id: string) => (await fakes.store.read(id)).map((event) => event.type);

const grace = 300;
const timeout = 60;

beforeAll(() => {
  Object.assign(process.env, {
    EVENTS_TABLE: 'events',
    READ_MODEL_TABLE: 'read-model',
    UPLOAD_BUCKET: 'uploads',
    EXPIRY_GRACE_SECONDS: String(grace),
    LABELING_TIMEOUT_SECONDS: String(timeout),
  });
});
beforeEach(() => {
  // Only the clock is faked: the sweep's "now".
  vi.useFakeTimers({ toFake: ['Date'] });
  fakes.store = new InMemoryEventStore();
  fakes.waiting = [];
  fakes.inProgress = [];
  fakes.cutoffs = [];
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ExpireBlobsFunction', () => {
  it('expires a blob never uploaded and fails a labeling that never reported back', async () => {
    const [waiting, stuck] = [newBlobId(), newBlobId()];
    fakes.store = new InMemoryEventStore([blobCreated(waiting), blobCreated(stuck), blobUploaded(stuck, { occurredAt: at(10) })]);
    fakes.waiting = [waiting];
    fakes.inProgress = [stuck];
    vi.setSystemTime(at(900 + grace));

    expect(await sweep()).toEqual({ expired: 1, timedOut: 1 });
    expect(await fakes.store.read(waiting)).toContainEqual(blobExpired(waiting, { occurredAt: at(900 + grace), uploadExpiredAt: at(900) }));
    expect((await fakes.store.read(stuck)).at(-1)).toMatchObject({
      type: 'BlobFailed',
      data: { code: 'LABELING_FAILED', message: `Labeling did not finish within ${timeout} s of the upload.` },
    });
    // It asks the read model for blobs whose URL expired a grace period ago, and labelings older than the timeout.
    expect(fakes.cutoffs).toEqual([at(900).toISOString(), at(900 + grace - timeout).toISOString()]);
  });

  it('settles each blob once, however often it runs', async () => {
    const id = newBlobId();
    fakes.store = new InMemoryEventStore([blobCreated(id)]);
    fakes.waiting = [id];
    vi.setSystemTime(at(2000));
    expect(await sweep()).toEqual({ expired: 1, timedOut: 0 });
    expect(await sweep()).toEqual({ expired: 0, timedOut: 0 });
    expect(await types(id)).toEqual(['BlobCreated', 'BlobExpired']);
  });

  it('checks every candidate against the log: a read model behind it settles nothing wrongly', async () => {
    const [uploadedSince, labeledSince, graceLeft, unknown] = [newBlobId(), newBlobId(), newBlobId(), newBlobId()];
    fakes.store = new InMemoryEventStore([
      blobCreated(uploadedSince),
      blobUploaded(uploadedSince, { occurredAt: at(1000) }),
      blobCreated(labeledSince),
      blobUploaded(labeledSince),
      blobLabeled(labeledSince),
      blobCreated(graceLeft, { expiresAt: at(1000) }),
    ]);
    fakes.waiting = [uploadedSince, graceLeft, unknown];
    fakes.inProgress = [labeledSince, unknown];
    vi.setSystemTime(at(1000 + grace - 1));
    expect(await sweep()).toEqual({ expired: 0, timedOut: 0 });
    expect(await types(uploadedSince)).toEqual(['BlobCreated', 'BlobUploaded']);
    expect(await types(labeledSince)).toEqual(['BlobCreated', 'BlobUploaded', 'BlobLabeled']);
    expect(await types(graceLeft)).toEqual(['BlobCreated']);
    expect(fakes.store.blobIds()).not.toContain(unknown);
  });
});
