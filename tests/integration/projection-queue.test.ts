// The read side's delivery path as template.yaml wires it: the bus's ProjectionRule queues
// every blob event on ProjectionQueue, and ProjectBlobFunction polls it in batches. This runs
// the real handler against the local DynamoDB, the local bus and the local SQS, and checks
// the promises the queue makes: batches, partial batch failures, the redrive to the
// dead-letter queue.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DurableQueues } from '../../local/durable-queue.ts';
import { startDynamoDb, type LocalDynamoDb } from '../../local/dynamodb.ts';
import { LocalEventBridge } from '../../local/eventbridge/bus.ts';
import { LambdaRuntime, mergedEnvironment, sourceModule } from '../../local/lambda-runtime.ts';
import { LocalSqs } from '../../local/sqs.ts';
import { decideCreate, decideUpload } from '../../shared/blob/decisions.ts';
import { BLOB_EVENT_SOURCE, type BlobEvent } from '../../shared/blob/events.ts';
import { foldBlob } from '../../shared/blob/state.ts';
import { DynamoDbEventStore } from '../../shared/event-store/dynamodb-event-store.ts';
import { loadTestTemplate, projectRoot } from '../support/template.ts';

const template = loadTestTemplate();
const projector = template.functions.find((fn) => fn.logicalId === 'ProjectBlobFunction')!;
const source = projector.queueSources[0]!;
const rule = template.rules.find((candidate) => 'queue' in candidate.target && candidate.target.queue === source.queue)!;
// The template's queue, with no visibility timeout: a failed message is back at once, so the
// ten receives before the redrive take milliseconds instead of ten minutes.
const queue = { ...template.queues.find((candidate) => candidate.name === source.queue)!, visibilityTimeoutSeconds: 0 };
const deadLetterQueue = queue.redrive!.deadLetterQueue;
const readModelTable = template.tables.find((table) => table.logicalId === 'BlobsReadModelTable')!.name;
const eventsTable = template.tables.find((table) => table.logicalId === 'BlobEventsTable')!.name;

let directory: string;
let dynamodb: LocalDynamoDb;
let queues: DurableQueues;
let runtime: LambdaRuntime;
let bus: LocalEventBridge;
let sqs: LocalSqs;
let store: DynamoDbEventStore;
let client: DynamoDBDocumentClient;
const deadLettered: string[] = [];

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'projection-queue-'));
  dynamodb = await startDynamoDb({ directory: join(directory, 'db'), host: '127.0.0.1', tables: template.tables, onInsert: async () => {} });
  Object.assign(process.env, {
    ...mergedEnvironment(template.functions),
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_LAMBDA_MAX_CONCURRENCY: '64',
  });
  queues = await DurableQueues.open(join(directory, 'queues'));
  runtime = new LambdaRuntime(sourceModule(projectRoot));
  await runtime.load([projector]);
  sqs = new LocalSqs({
    definitions: template.queues.map((candidate) => (candidate.name === queue.name ? queue : candidate)),
    queues,
    runtime,
    region: 'us-east-1',
    logger: { error: (_message, fields) => deadLettered.push(String(fields.message_id)) },
  });
  sqs.startEventSource(projector.logicalId, source);
  bus = new LocalEventBridge({
    buses: template.buses,
    rules: [rule],
    queues,
    runtime,
    sqs,
    region: 'us-east-1',
    accountId: '000000000000',
    logger: { error: () => {} },
  });
  client = DynamoDBDocumentClient.from(dynamodb.client);
  store = new DynamoDbEventStore(client, eventsTable);
});

afterAll(async () => {
  await queues?.close();
  await dynamodb?.close();
  rmSync(directory, { recursive: true, force: true });
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

async function publish(events: BlobEvent[]) {
  const results = await bus.putEvents(
    events.map((event) => ({ EventBusName: rule.busName, Source: BLOB_EVENT_SOURCE, DetailType: event.type, Detail: JSON.stringify(event) })),
  );
  expect(results.every((result) => result.EventId)).toBe(true);
}

async function row(blobId: string) {
  const { Item } = await client.send(new GetCommand({ TableName: readModelTable, Key: { pk: `BLOB#${blobId}`, sk: 'BLOB' } }));
  return Item as { version: number; invocation_status: string } | undefined;
}

describe('the projection queue', () => {
  it('projects a batch of events in one invocation, each blob at its newest event', async () => {
    const first = newBlob();
    const uploaded = decideUpload(foldBlob([first])!, new Date(), { bucket: 'uploads', key: 'k', size_bytes: 1 })!;
    const second = newBlob();
    for (const event of [first, uploaded, second]) await store.append(event);
    const before = runtime.invocationCounts()[projector.logicalId] ?? 0;

    // Published one by one: the batching window gathers them into one batch all the same.
    for (const event of [first, uploaded, second]) await publish([event]);
    await queues.idle();

    expect(runtime.invocationCounts()[projector.logicalId]).toBe(before + 1);
    expect(await row(first.blob_id)).toMatchObject({ version: 2, invocation_status: 'IN_PROGRESS' });
    expect(await row(second.blob_id)).toMatchObject({ version: 1, invocation_status: 'ACTION_REQUIRED' });
  });

  it('fails only the message it cannot read, and moves it to the dead-letter queue after maxReceiveCount receives', async () => {
    const blob = newBlob();
    await store.append(blob);
    const before = runtime.invocationCounts()[projector.logicalId] ?? 0;

    // A blob event with no blob_id: the rule matches it (any blob event), the projector cannot use it.
    const { blob_id: _dropped, ...broken } = newBlob();
    const results = await bus.putEvents([
      { EventBusName: rule.busName, Source: BLOB_EVENT_SOURCE, DetailType: 'BlobCreated', Detail: JSON.stringify(broken) },
      { EventBusName: rule.busName, Source: BLOB_EVENT_SOURCE, DetailType: blob.type, Detail: JSON.stringify(blob) },
    ]);
    expect(results.every((result) => result.EventId)).toBe(true);
    await queues.idle();

    expect(await row(blob.blob_id)).toMatchObject({ version: 1 });
    // One batch with both, then the broken message alone until its tenth receive.
    expect(runtime.invocationCounts()[projector.logicalId]).toBe(before + queue.redrive!.maxReceiveCount);
    expect(deadLettered).toHaveLength(1);
    expect(sqs.messageIds(deadLetterQueue)).toEqual(new Set(deadLettered));
  });

  it('leaves a newer row alone when an older event arrives late', async () => {
    const blob = newBlob();
    const uploaded = decideUpload(foldBlob([blob])!, new Date(), { bucket: 'uploads', key: 'k', size_bytes: 1 })!;
    for (const event of [blob, uploaded]) await store.append(event);
    await publish([uploaded]);
    await queues.idle();
    await publish([blob]);
    await queues.idle();
    expect(await row(blob.blob_id)).toMatchObject({ version: 2, invocation_status: 'IN_PROGRESS' });
  });
});
