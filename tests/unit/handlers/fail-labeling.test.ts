// FailLabelingFunction, its Middy chain and all, on what the labeling dead-letter queue
// delivers: the labeler's sample (a BlobUploaded as the bus queued it), given up on. The log is
// the in-memory event store.
import type { SQSBatchResponse } from 'aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/fail-labeling.ts';
import { BlobEvent } from '../../../shared/blob/events.ts';
import { InMemoryEventStore } from '../../../shared/event-store/in-memory-event-store.ts';
import { blobFailed, blobLabeled } from '../../support/blob-events.ts';
import { lambdaContext, sample, sqsBatch } from '../../support/lambda.ts';

const memory = vi.hoisted(() => ({ store: undefined as unknown as InMemoryEventStore }));
vi.mock(import('../../../shared/event-store/index.ts'), async (original) => ({ ...(await original()), eventStore: () => memory.store }));

const context = lambdaContext('FailLabelingFunction');
const queuedUpload = () => sample<{ detail: unknown }>('label-blob.blob-uploaded.json');
const created = BlobEvent.parse(sample<{ detail: unknown }>('blob-created.json').detail);
const uploaded = BlobEvent.parse(queuedUpload().detail);
const id = created.blob_id;
const givenUp = (bodies: unknown[]) => handler(sqsBatch(bodies, { receiveCount: 5, queue: 'LabelingDeadLetterQueue' }), context) as Promise<SQSBatchResponse>;

beforeEach(() => {
  memory.store = new InMemoryEventStore([created, uploaded]);
});

describe('FailLabelingFunction', () => {
  it('records a labeling given up on as FAILED LABELING_FAILED, so that no blob stays IN_PROGRESS', async () => {
    const response = await givenUp([queuedUpload()]);
    expect(response.batchItemFailures).toEqual([]);
    const log = await memory.store.read(id);
    expect(log.map((event) => event.type)).toEqual(['BlobCreated', 'BlobUploaded', 'BlobFailed']);
    expect(log[2]).toMatchObject({
      version: 3,
      data: {
        code: 'LABELING_FAILED',
        message: 'Labeling kept failing (Rekognition throttling or errors) until its retries ran out.',
        // The blob's callback_url, repeated for routing: its client hears of the failure.
        callback_url: 'https://example.com/hooks/labels',
      },
    });
  });

  it('leaves a blob labeled meanwhile as it is, and records a failure once', async () => {
    memory.store = new InMemoryEventStore([created, uploaded, blobLabeled(id)]);
    await givenUp([queuedUpload()]);
    expect((await memory.store.read(id)).map((event) => event.type)).toEqual(['BlobCreated', 'BlobUploaded', 'BlobLabeled']);

    memory.store = new InMemoryEventStore([created, uploaded]);
    await givenUp([queuedUpload(), queuedUpload()]);
    await givenUp([queuedUpload()]);
    expect((await memory.store.read(id)).map((event) => event.type)).toEqual(['BlobCreated', 'BlobUploaded', 'BlobFailed']);
  });

  it('reports a message that is not a queued BlobUploaded as failed, so it stays in the queue, and handles the rest', async () => {
    const response = await givenUp(['not json', { detail: { blob_id: 42 } }, queuedUpload()]);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'message-1' }, { itemIdentifier: 'message-2' }]);
    expect((await memory.store.read(id)).at(-1)).toMatchObject({ type: 'BlobFailed' });
  });

  it('does nothing for a blob whose log it cannot find', async () => {
    memory.store = new InMemoryEventStore();
    const response = await givenUp([queuedUpload()]);
    expect(response.batchItemFailures).toEqual([]);
    expect(memory.store.blobIds()).toEqual([]);
  });

  it('records nothing over a failure already recorded by the sweep', async () => {
    memory.store = new InMemoryEventStore([created, uploaded, blobFailed(id, { failure: { code: 'LABELING_FAILED', message: 'timed out' } })]);
    await givenUp([queuedUpload()]);
    expect(await memory.store.read(id)).toHaveLength(3);
  });
});
