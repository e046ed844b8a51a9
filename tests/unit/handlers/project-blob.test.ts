// ProjectBlobFunction, its Middy chain and all, on its sample (a batch of the projection queue:
// the samples' blob uploaded, then labeled). The log is the in-memory event store; the read
// model's write, a conditional put in DynamoDB (tests/integration/projection-queue.test.ts runs
// it for real), is a fake at its module seam that records the states it is given.
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/project-blob.ts';
import { BlobEvent } from '../../../shared/blob/events.ts';
import type { BlobState } from '../../../shared/blob/state.ts';
import { InMemoryEventStore } from '../../../shared/event-store/in-memory-event-store.ts';
import { blobCreated, newBlobId } from '../../support/blob-events.ts';
import { lambdaContext, sample, sqsBatch } from '../../support/lambda.ts';

const fakes = vi.hoisted(() => ({
  store: undefined as unknown as InMemoryEventStore,
  projected: [] as BlobState[],
  failFor: undefined as string | undefined,
}));
vi.mock(import('../../../shared/event-store/index.ts'), async (original) => ({ ...(await original()), eventStore: () => fakes.store }));
vi.mock(import('../../../shared/read-model/index.ts'), async (original) => {
  const projection = {
    project: async (state: BlobState) => {
      // DynamoDB failing one blob's write (throttled past the SDK's retries): a fault no fake-free test can cause here.
      if (state.blob_id === fakes.failFor) throw new Error('ProvisionedThroughputExceededException');
      fakes.projected.push(state);
      return 'written' as const;
    },
  };
  return { ...(await original()), blobProjection: () => projection as unknown as import('../../../shared/read-model/index.ts').BlobProjection };
});

const context = lambdaContext('ProjectBlobFunction');
const batch = () => sample<SQSEvent>('project-blob.sqs-batch.json');
const story = ['blob-created.json', 'label-blob.blob-uploaded.json', 'send-callback.blob-labeled.json'].map((file) =>
  BlobEvent.parse(sample<{ detail: unknown }>(file).detail),
);
const project = (event: SQSEvent) => handler(event, context) as Promise<SQSBatchResponse>;

beforeEach(() => {
  fakes.store = new InMemoryEventStore(story);
  fakes.projected = [];
  fakes.failFor = undefined;
});

describe('ProjectBlobFunction', () => {
  it("writes a blob's row once per batch, folded through the newest event the batch has for it", async () => {
    const response = await project(batch());
    expect(response.batchItemFailures).toEqual([]);
    expect(fakes.projected).toHaveLength(1);
    expect(fakes.projected[0]).toMatchObject({ blob_id: story[0]!.blob_id, version: 3, invocation_status: 'COMPLETED', owner: 'alice' });
  });

  it('projects the state as of the newest event delivered, not a later one already in the log', async () => {
    const uploadedOnly = batch();
    uploadedOnly.Records = uploadedOnly.Records.slice(0, 1);
    await project(uploadedOnly);
    expect(fakes.projected.map((state) => [state.version, state.invocation_status])).toEqual([[2, 'IN_PROGRESS']]);
  });

  it("projects a blob's first event without reading the log", async () => {
    const id = newBlobId();
    fakes.store = new InMemoryEventStore(); // nothing to read: the event is the whole log
    const created = blobCreated(id);
    await project(sqsBatch([{ version: '0', id: 'e1', 'detail-type': 'BlobCreated', source: 'image-labeling.blobs', account: '123456789012', time: '2026-11-24T12:00:00Z', region: 'us-east-1', resources: [], detail: created }]));
    expect(fakes.projected).toMatchObject([{ blob_id: id, version: 1, invocation_status: 'ACTION_REQUIRED' }]);
  });

  it("reports the messages of a blob whose row failed, and of a message that is no blob event, so they come back; the rest succeed", async () => {
    const other = newBlobId();
    fakes.store = new InMemoryEventStore([...story, blobCreated(other)]);
    fakes.failFor = story[0]!.blob_id;
    const mixed = batch();
    const otherCreated = { ...JSON.parse(mixed.Records[0]!.body), 'detail-type': 'BlobCreated', detail: blobCreated(other) };
    mixed.Records.push(
      { ...mixed.Records[0]!, messageId: 'other', body: JSON.stringify(otherCreated) },
      { ...mixed.Records[0]!, messageId: 'garbage', body: '{"detail":{}}' },
    );
    const response = await project(mixed);
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
      [...mixed.Records.slice(0, 2).map((record) => record.messageId), 'garbage'].sort(),
    );
    expect(fakes.projected.map((state) => state.blob_id)).toEqual([other]);
  });
});
