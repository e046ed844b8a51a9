// LabelBlobFunction, its Middy chain and all, on its sample (a BlobUploaded, as the labeling
// queue delivers it). The log is the in-memory event store; S3 and Rekognition are receivers on
// 127.0.0.1 that answer the one call each gets (GetObject with If-Match, DetectLabels) as AWS
// does, through the real SDK clients. The detector itself is not run: what Rekognition says is
// what the test says.
import { readFileSync } from 'node:fs';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/label-blob.ts';
import { BlobEvent, type BlobUploaded } from '../../../shared/blob/events.ts';
import { InMemoryEventStore } from '../../../shared/event-store/in-memory-event-store.ts';
import { blobLabeled } from '../../support/blob-events.ts';
import { lambdaContext, sample, sqsBatch } from '../../support/lambda.ts';
import { startFakeSqs, type FakeSqs } from '../../support/fake-sqs.ts';
import { startReceiver, type Answer, type ReceivedRequest, type Receiver } from '../../support/receiver.ts';

const memory = vi.hoisted(() => ({ store: undefined as unknown as InMemoryEventStore }));
vi.mock(import('../../../shared/event-store/index.ts'), async (original) => ({ ...(await original()), eventStore: () => memory.store }));

const horse = readFileSync(new URL('../../fixtures/horse.png', import.meta.url)); // 400x328
const context = lambdaContext('LabelBlobFunction');

// The samples' blob, uploaded with our photo.
const created = BlobEvent.parse(sample<{ detail: unknown }>('blob-created.json').detail);
function queuedUpload(sizeBytes = horse.length, occurredAt?: Date) {
  const envelope = sample<{ detail: BlobUploaded }>('label-blob.blob-uploaded.json');
  envelope.detail.data.size_bytes = sizeBytes;
  if (occurredAt) envelope.detail.occurred_at = occurredAt.toISOString();
  return envelope;
}
const uploaded = BlobEvent.parse(queuedUpload().detail);
const { etag, bucket, key } = queuedUpload().detail.data;

/** What the bucket holds at the upload's key, and its ETag. */
let object: { bytes: Uint8Array; etag: string } | undefined;
/** What DetectLabels answers next. */
let rekognitionAnswer: Answer;

function s3Answer(request: ReceivedRequest): Answer {
  if (request.method === 'DELETE') return { status: 204 };
  if (request.path.split('?')[0] !== `/${bucket}/${key}` || !object) return { status: 404, body: '<Error><Code>NoSuchKey</Code></Error>' };
  if (request.headers['if-match'] && request.headers['if-match'] !== `"${object.etag}"`) {
    return { status: 412, body: '<Error><Code>PreconditionFailed</Code></Error>' };
  }
  return { status: 200, headers: { etag: `"${object.etag}"`, 'content-length': String(object.bytes.length), 'content-type': 'image/png' }, body: object.bytes };
}

const detectLabels = (labels: unknown[]): Answer => ({
  status: 200,
  headers: { 'content-type': 'application/x-amz-json-1.1' },
  body: JSON.stringify({ Labels: labels, LabelModelVersion: '3.0' }),
});
const rekognitionError = (type: string, message: string): Answer => ({
  status: 400,
  headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type },
  body: JSON.stringify({ __type: type, Message: message }),
});

let s3: Receiver;
let rekognition: Receiver;
/** The labeling queue: its backlog (GetQueueAttributes) and the delays it is asked for (ChangeMessageVisibility). */
let sqs: FakeSqs;
const label = (occurredAt?: Date) => handler(sqsBatch([queuedUpload(horse.length, occurredAt)], { queue: 'LabelingQueue' }), context) as Promise<SQSBatchResponse>;
const types = async () => (await memory.store.read(created.blob_id)).map((event) => event.type);

beforeAll(async () => {
  s3 = await startReceiver(s3Answer);
  rekognition = await startReceiver(() => rekognitionAnswer);
  sqs = await startFakeSqs();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SQS: sqs.url,
    REKOGNITION_TPS: '2',
    EVENTS_TABLE: 'events',
    READ_MODEL_TABLE: 'read-model',
    UPLOAD_BUCKET: bucket,
    LABELING_QUEUE_URL: 'http://127.0.0.1:9/000000000000/LabelingQueue',
    AWS_ENDPOINT_URL_S3: s3.url,
    AWS_ENDPOINT_URL_REKOGNITION: rekognition.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
});
afterAll(async () => {
  await s3.close();
  await rekognition.close();
  await sqs.close();
});
beforeEach(() => {
  memory.store = new InMemoryEventStore([created, uploaded]);
  object = { bytes: horse, etag: etag! };
  rekognitionAnswer = detectLabels([]);
  s3.requests.length = 0;
  rekognition.requests.length = 0;
  sqs.requests.length = 0;
  vi.restoreAllMocks();
});

describe('LabelBlobFunction', () => {
  it("records Rekognition's labels for exactly the recorded image, most confident first, then deletes it", async () => {
    rekognitionAnswer = detectLabels([
      { Name: 'Animal', Confidence: 90.1234567, Parents: [], Instances: [] },
      {
        Name: 'Horse',
        Confidence: 97.9876543,
        Parents: [{ Name: 'Animal' }, { Name: 'Mammal' }],
        Instances: [{ Confidence: 97.9876543, BoundingBox: { Left: 0.1, Top: 0.2, Width: 0.5, Height: 0.6 } }],
      },
    ]);
    const response = await label();
    expect(response.batchItemFailures).toEqual([]);

    const log = await memory.store.read(created.blob_id);
    expect(log.at(-1)).toEqual(
      blobLabeled(created.blob_id, {
        occurredAt: new Date(log.at(-1)!.occurred_at),
        callbackUrl: 'https://example.com/hooks/labels',
        result: {
          labels: [
            { name: 'Horse', confidence: 97.988, parents: ['Animal', 'Mammal'], instances: [{ confidence: 97.988, bounding_box: { left: 0.1, top: 0.2, width: 0.5, height: 0.6 } }] },
            { name: 'Animal', confidence: 90.123, parents: [], instances: [] },
          ],
          model: 'rekognition/3.0',
          // From the image's own bytes.
          image: { width: 400, height: 328, content_type: 'image/png', size_bytes: horse.length },
        },
      }),
    );
    // Read pinned to the recorded object; sent inline, with the blob's own settings.
    expect(s3.requests[0]).toMatchObject({ method: 'GET', headers: { 'if-match': `"${etag}"` } });
    const asked = JSON.parse(rekognition.requests[0]!.body) as { Image: { Bytes: string }; MaxLabels: number; MinConfidence: number };
    expect(rekognition.requests[0]!.headers['x-amz-target']).toBe('RekognitionService.DetectLabels');
    expect(asked).toMatchObject({ MaxLabels: 20, MinConfidence: 50 });
    expect(Buffer.from(asked.Image.Bytes, 'base64').equals(horse)).toBe(true);
    expect(s3.requests.at(-1)).toMatchObject({ method: 'DELETE' });
  });

  it('does nothing for a duplicate delivery: no second DetectLabels, no second result', async () => {
    await label();
    await label();
    expect(await types()).toEqual(['BlobCreated', 'BlobUploaded', 'BlobLabeled']);
    expect(rekognition.requests).toHaveLength(1);
  });

  it('fails an upload that is not an image, by its bytes, without asking Rekognition', async () => {
    object = { bytes: Buffer.from('no image here'), etag: etag! };
    memory.store = new InMemoryEventStore([created, BlobEvent.parse(queuedUpload(13).detail)]);
    await handler(sqsBatch([queuedUpload(13)]), context);
    expect((await memory.store.read(created.blob_id)).at(-1)).toMatchObject({
      type: 'BlobFailed',
      data: { code: 'INVALID_IMAGE_FORMAT', message: 'The upload is neither a JPEG nor a PNG image (by its bytes).' },
    });
    expect(rekognition.requests).toEqual([]);
  });

  it("fails rather than label another image than the one recorded (a later PUT replaced it)", async () => {
    object = { bytes: horse, etag: 'another-etag' };
    await label();
    expect((await memory.store.read(created.blob_id)).at(-1)).toMatchObject({ type: 'BlobFailed', data: { code: 'LABELING_FAILED' } });
    expect(rekognition.requests).toEqual([]);
  });

  it('says what to check when Rekognition cannot read an image over 5 MB from the bucket itself', async () => {
    const large = 6 * 1024 * 1024; // sent as an S3Object, not inline
    object = { bytes: Buffer.concat([horse, Buffer.alloc(large - horse.length)]), etag: etag! };
    memory.store = new InMemoryEventStore([created, BlobEvent.parse(queuedUpload(large).detail)]);
    rekognitionAnswer = rekognitionError('InvalidS3ObjectException', 'Unable to get object metadata from S3. Check object key, region and/or access permissions.');
    await handler(sqsBatch([queuedUpload(large)]), context);
    expect(JSON.parse(rekognition.requests[0]!.body)).toMatchObject({ Image: { S3Object: { Bucket: bucket, Name: key } } });
    expect((await memory.store.read(created.blob_id)).at(-1)).toMatchObject({
      type: 'BlobFailed',
      data: { code: 'LABELING_FAILED', message: expect.stringContaining("the function's role needs s3:GetObject") },
    });
  });

  it("records Rekognition's refusal of the image with its reason code", async () => {
    rekognitionAnswer = rekognitionError('InvalidImageFormatException', 'Request has invalid image format');
    const response = await label();
    expect(response.batchItemFailures).toEqual([]);
    expect((await memory.store.read(created.blob_id)).at(-1)).toMatchObject({ type: 'BlobFailed', data: { code: 'INVALID_IMAGE_FORMAT' } });
  });

  it('puts a throttled image back for a delay paced by the queue\'s backlog at the quota, not yet failed', async () => {
    rekognitionAnswer = rekognitionError('ThrottlingException', 'Rate exceeded');
    sqs.backlog = { waiting: 30, notVisible: 10 }; // 40 images at 2 a second: 20 s to drain
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    // Uploaded just now: the labeling timeout leaves time for another attempt. The batch (of
    // one) fails as a whole, so the message comes back after the delay it was given.
    await expect(label(new Date())).rejects.toThrow('All records failed processing');
    expect(await types()).toEqual(['BlobCreated', 'BlobUploaded']);
    expect(sqs.calls()).toEqual([
      expect.objectContaining({ operation: 'AmazonSQS.GetQueueAttributes', QueueUrl: process.env.LABELING_QUEUE_URL }),
      // Half of 20 s; a plain first backoff would have been half of 1 s.
      expect.objectContaining({ operation: 'AmazonSQS.ChangeMessageVisibility', ReceiptHandle: 'receipt-1', VisibilityTimeout: 10 }),
    ]);
  });

  it('backs off plainly after a 5xx, which is not the quota: no backlog read', async () => {
    rekognitionAnswer = { status: 500, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'InternalServerError' }, body: '{"__type":"InternalServerError"}' };
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    await expect(label(new Date())).rejects.toThrow('All records failed processing');
    expect(sqs.calls()).toEqual([expect.objectContaining({ operation: 'AmazonSQS.ChangeMessageVisibility', VisibilityTimeout: 1 })]);
  });
});
