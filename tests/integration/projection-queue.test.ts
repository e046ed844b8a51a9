// The read side's delivery path as template.yaml wires it: the bus's ProjectionRule queues
// every blob event on ProjectionQueue, and ProjectBlobFunction polls it in batches. This runs
// the real handler against the local DynamoDB, the local bus and the local SQS, and checks
// the promises the queue makes: batches, partial batch failures, the redrive to the
// dead-letter queue.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideCreate, decideUpload } from '../../shared/blob/decisions.ts';
import type { BlobEvent } from '../../shared/blob/events.ts';
import { foldBlob } from '../../shared/blob/state.ts';
import { startQueueRig, type QueueRig } from '../support/queue-rig.ts';

let rig: QueueRig;
let readModelTable: string;

beforeAll(async () => {
  // The template's queue, with no visibility timeout: a failed message is back at once, so the
  // ten receives before the redrive take milliseconds instead of ten minutes.
  rig = await startQueueRig({ name: 'projection-queue', consumer: 'ProjectBlobFunction', queue: { visibilityTimeoutSeconds: 0 } });
  readModelTable = rig.template.tables.find((table) => table.logicalId === 'BlobsReadModelTable')!.name;
});

afterAll(async () => {
  await rig?.close();
});

let sequence = 0;
function newBlob(): BlobEvent {
  sequence += 1;
  const blobId = `01JD8Y7N3Q4W5E6R7T8Y9V${String(sequence).padStart(4, '0')}`;
  return decideCreate(blobId, new Date(), {
    upload: { bucket: 'uploads', key: `uploads/${blobId}`, expires_at: new Date(Date.now() + 60_000).toISOString() },
    labeling: { max_labels: 10, min_confidence: 50 },
  });
}

async function row(blobId: string) {
  const { Item } = await rig.documentClient.send(new GetCommand({ TableName: readModelTable, Key: { pk: `BLOB#${blobId}`, sk: 'BLOB' } }));
  return Item as { version: number; invocation_status: string } | undefined;
}

describe('the projection queue', () => {
  it('projects a batch of events in one invocation, each blob at its newest event', async () => {
    const first = newBlob();
    const uploaded = decideUpload(foldBlob([first])!, new Date(), { bucket: 'uploads', key: 'k', size_bytes: 1 })!;
    const second = newBlob();
    for (const event of [first, uploaded, second]) await rig.store.append(event);
    const before = rig.runtime.invocationCounts().ProjectBlobFunction ?? 0;

    // Published one by one: the batching window gathers them into one batch all the same.
    for (const event of [first, uploaded, second]) await rig.publish([event]);
    await rig.queues.idle();

    expect(rig.runtime.invocationCounts().ProjectBlobFunction).toBe(before + 1);
    expect(await row(first.blob_id)).toMatchObject({ version: 2, invocation_status: 'IN_PROGRESS' });
    expect(await row(second.blob_id)).toMatchObject({ version: 1, invocation_status: 'ACTION_REQUIRED' });
  });

  it('fails only the message it cannot read, and moves it to the dead-letter queue after maxReceiveCount receives', async () => {
    const blob = newBlob();
    await rig.store.append(blob);
    const before = rig.runtime.invocationCounts().ProjectBlobFunction ?? 0;

    // A blob event with no blob_id: the rule matches it (any blob event), the projector cannot use it.
    const { blob_id: _dropped, ...broken } = newBlob();
    await rig.publish([broken, blob]);
    await rig.queues.idle();

    expect(await row(blob.blob_id)).toMatchObject({ version: 1 });
    // One batch with both, then the broken message alone until its tenth receive.
    expect(rig.runtime.invocationCounts().ProjectBlobFunction).toBe(before + rig.queue.redrive!.maxReceiveCount);
    expect(rig.deadLettered).toHaveLength(1);
    expect(rig.sqs.messageIds(rig.queue.redrive!.deadLetterQueue)).toEqual(new Set(rig.deadLettered));
  });

  it('leaves a newer row alone when an older event arrives late', async () => {
    const blob = newBlob();
    const uploaded = decideUpload(foldBlob([blob])!, new Date(), { bucket: 'uploads', key: 'k', size_bytes: 1 })!;
    for (const event of [blob, uploaded]) await rig.store.append(event);
    await rig.publish([uploaded]);
    await rig.queues.idle();
    await rig.publish([blob]);
    await rig.queues.idle();
    expect(await row(blob.blob_id)).toMatchObject({ version: 2, invocation_status: 'IN_PROGRESS' });
  });
});
