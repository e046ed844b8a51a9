// The labeling queue's last resort, as template.yaml wires it: a BlobUploaded the labeler
// fails on at every receive moves to LabelingDeadLetterQueue after maxReceiveCount receives,
// and FailLabelingFunction records the blob FAILED LABELING_FAILED, so it is not left
// IN_PROGRESS. The real handlers run against the local DynamoDB, bus and SQS. The fault is a
// real one: S3 is unreachable (its endpoint is a closed port), so the labeler cannot read the
// image and throws on every receive.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideCreate, decideUpload } from '../../shared/blob/decisions.ts';
import { foldBlob } from '../../shared/blob/state.ts';
import { startQueueRig, type QueueRig } from '../support/queue-rig.ts';

let rig: QueueRig;

beforeAll(async () => {
  rig = await startQueueRig({
    name: 'labeling-queue',
    consumer: 'LabelBlobFunction',
    // The template's queue with no visibility timeout: the receives before the redrive take
    // moments instead of hours.
    queue: { visibilityTimeoutSeconds: 0 },
    withDeadLetterConsumer: true,
    // Nothing listens on the discard port: every read of the image fails to connect.
    environment: { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' },
  });
});

afterAll(async () => {
  await rig?.close();
});

describe('the labeling queue', () => {
  it('gives a message up after maxReceiveCount receives, and its blob is recorded FAILED LABELING_FAILED', async () => {
    const blobId = '01JD8Y7N3Q4W5E6R7T8Y9V0001';
    const created = decideCreate(blobId, new Date(), {
      upload: { bucket: 'uploads', key: `uploads/${blobId}`, expires_at: new Date(Date.now() + 60_000).toISOString() },
      labeling: { max_labels: 10, min_confidence: 50 },
    });
    const uploaded = decideUpload(foldBlob([created])!, new Date(), { bucket: 'uploads', key: `uploads/${blobId}`, size_bytes: 1000 })!;
    for (const event of [created, uploaded]) await rig.store.append(event);

    await rig.publish([uploaded]);
    await rig.queues.idle();

    expect(rig.runtime.invocationCounts().LabelBlobFunction).toBe(rig.queue.redrive!.maxReceiveCount);
    expect(rig.deadLettered).toHaveLength(1);
    const state = foldBlob(await rig.store.read(blobId));
    expect(state).toMatchObject({ invocation_status: 'FAILED', failure: { code: 'LABELING_FAILED', message: expect.stringContaining('retries ran out') } });
    expect(rig.runtime.invocationCounts().FailLabelingFunction).toBe(1);
  }, 60_000);
});
