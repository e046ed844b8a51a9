// RecordUploadFunction, its Middy chain and all, on S3's Object Created sample. The log is the
// in-memory event store (held to the DynamoDB store's contract); S3, which it calls only to
// delete a late upload, is a receiver on 127.0.0.1.
import type { S3ObjectCreatedNotificationEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/record-upload.ts';
import { BlobEvent } from '../../../shared/blob/events.ts';
import { InMemoryEventStore } from '../../../shared/event-store/in-memory-event-store.ts';
import { blobExpired } from '../../support/blob-events.ts';
import { lambdaContext, sample } from '../../support/lambda.ts';
import { startReceiver, type Receiver } from '../../support/receiver.ts';

const memory = vi.hoisted(() => ({ store: undefined as unknown as InMemoryEventStore }));
vi.mock(import('../../../shared/event-store/index.ts'), async (original) => ({ ...(await original()), eventStore: () => memory.store }));

// The samples tell one blob's story: created, then this upload, which the labeler then receives.
const objectCreated = () => sample<S3ObjectCreatedNotificationEvent>('record-upload.object-created.json');
const created = BlobEvent.parse(sample<{ detail: unknown }>('blob-created.json').detail);
const uploaded = BlobEvent.parse(sample<{ detail: unknown }>('label-blob.blob-uploaded.json').detail);
const context = lambdaContext('RecordUploadFunction');

let s3: Receiver;
beforeAll(async () => {
  s3 = await startReceiver();
  Object.assign(process.env, {
    EVENTS_TABLE: 'events',
    READ_MODEL_TABLE: 'read-model',
    UPLOAD_BUCKET: created.type === 'BlobCreated' ? created.data.upload.bucket : '',
    AWS_ENDPOINT_URL_S3: s3.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
});
afterAll(() => s3.close());
beforeEach(() => {
  memory.store = new InMemoryEventStore([created]);
  s3.requests.length = 0;
});

describe('RecordUploadFunction', () => {
  it('records the first upload as BlobUploaded, the object as S3 reported it', async () => {
    await handler(objectCreated(), context);
    const log = await memory.store.read(created.blob_id);
    expect(log.map((event) => [event.type, event.version])).toEqual([['BlobCreated', 1], ['BlobUploaded', 2]]);
    // What the labeler's sample receives, but for the time it was recorded.
    expect(log[1]).toEqual({ ...uploaded, occurred_at: log[1]!.occurred_at });
    expect(Date.parse(log[1]!.occurred_at)).toBeGreaterThan(Date.parse(created.occurred_at));
    expect(s3.requests).toEqual([]);
  });

  it('records an upload once, however often the notification comes', async () => {
    await handler(objectCreated(), context);
    await handler(objectCreated(), context);
    const late = objectCreated();
    late.detail.object.size = 99;
    await handler(late, context);
    expect((await memory.store.read(created.blob_id)).map((event) => event.type)).toEqual(['BlobCreated', 'BlobUploaded']);
    // The image of a blob being labeled stays: the labeler reads it.
    expect(s3.requests).toEqual([]);
  });

  it('ignores an object that is not an upload, and an upload for a blob it does not know', async () => {
    const other = objectCreated();
    other.detail.object.key = 'exports/report.csv';
    await handler(other, context);
    const unknown = objectCreated();
    unknown.detail.object.key = 'uploads/01M87ARFEB9P1S7007NF10H0R5';
    await handler(unknown, context);
    expect(memory.store.blobIds()).toEqual([created.blob_id]);
    expect(await memory.store.read(created.blob_id)).toEqual([created]);
    expect(s3.requests).toEqual([]);
  });

  it('deletes a late upload of a finished blob, which would otherwise stay in the bucket for good', async () => {
    memory.store = new InMemoryEventStore([created, blobExpired(created.blob_id)]);
    await handler(objectCreated(), context);
    expect((await memory.store.read(created.blob_id)).map((event) => event.type)).toEqual(['BlobCreated', 'BlobExpired']);
    const { bucket, object } = objectCreated().detail;
    expect(s3.requests.map((request) => `${request.method} ${request.path.split('?')[0]}`)).toEqual([`DELETE /${bucket.name}/${object.key}`]);
  });
});
