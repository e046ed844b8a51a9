// The labeling queue's last resort, as template.yaml wires it: a BlobUploaded the labeler
// fails on at every receive moves to LabelingDeadLetterQueue after maxReceiveCount receives,
// and FailLabelingFunction records the blob FAILED LABELING_FAILED, so it is not left
// IN_PROGRESS. The real handlers run against the local DynamoDB, bus and SQS. The fault is a
// real one: S3 is unreachable (its endpoint is a closed port), so the labeler cannot read the
// image and throws on every receive.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DurableQueues } from '../../local/durable-queue.ts';
import { startDynamoDb, type LocalDynamoDb } from '../../local/dynamodb.ts';
import { LocalEventBridge } from '../../local/eventbridge/bus.ts';
import { LambdaRuntime, mergedEnvironment, sourceModule } from '../../local/lambda-runtime.ts';
import { LocalSqs } from '../../local/sqs.ts';
import { decideCreate, decideUpload } from '../../shared/blob/decisions.ts';
import { BLOB_EVENT_SOURCE } from '../../shared/blob/events.ts';
import { foldBlob } from '../../shared/blob/state.ts';
import { DynamoDbEventStore } from '../../shared/event-store/dynamodb-event-store.ts';
import { loadTestTemplate, projectRoot } from '../support/template.ts';

const template = loadTestTemplate();
const labeler = template.functions.find((fn) => fn.logicalId === 'LabelBlobFunction')!;
const source = labeler.queueSources[0]!;
const rule = template.rules.find((candidate) => 'queue' in candidate.target && candidate.target.queue === source.queue)!;
// The template's queue with no visibility timeout: the receives before the redrive take
// moments instead of hours.
const queue = { ...template.queues.find((candidate) => candidate.name === source.queue)!, visibilityTimeoutSeconds: 0 };
const consumer = template.functions.find((fn) => fn.queueSources.some((s) => s.queue === queue.redrive!.deadLetterQueue))!;
const eventsTable = template.tables.find((table) => table.logicalId === 'BlobEventsTable')!.name;

let directory: string;
let dynamodb: LocalDynamoDb;
let queues: DurableQueues;
let runtime: LambdaRuntime;
let bus: LocalEventBridge;
let store: DynamoDbEventStore;
const deadLettered: string[] = [];

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'labeling-queue-'));
  dynamodb = await startDynamoDb({ directory: join(directory, 'db'), host: '127.0.0.1', tables: template.tables, onInsert: async () => {} });
  Object.assign(process.env, {
    ...mergedEnvironment(template.functions),
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb.url,
    // Nothing listens on the discard port: every read of the image fails to connect.
    AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
    AWS_MAX_ATTEMPTS: '1',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_LAMBDA_MAX_CONCURRENCY: '64',
  });
  queues = await DurableQueues.open(join(directory, 'queues'));
  runtime = new LambdaRuntime(sourceModule(projectRoot));
  await runtime.load([labeler, consumer]);
  const sqs = new LocalSqs({
    definitions: template.queues.map((candidate) => (candidate.name === queue.name ? queue : candidate)),
    queues,
    runtime,
    region: 'us-east-1',
    logger: { error: (_message, fields) => deadLettered.push(String(fields.message_id)) },
  });
  sqs.startEventSource(labeler.logicalId, source);
  sqs.startEventSource(consumer.logicalId, consumer.queueSources[0]!);
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
  store = new DynamoDbEventStore(DynamoDBDocumentClient.from(dynamodb.client), eventsTable);
});

afterAll(async () => {
  await queues?.close();
  await dynamodb?.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('the labeling queue', () => {
  it('gives a message up after maxReceiveCount receives, and its blob is recorded FAILED LABELING_FAILED', async () => {
    const blobId = '01JD8Y7N3Q4W5E6R7T8Y9V0001';
    const created = decideCreate(blobId, new Date(), {
      upload: { bucket: 'uploads', key: `uploads/${blobId}`, expires_at: new Date(Date.now() + 60_000).toISOString() },
      labeling: { max_labels: 10, min_confidence: 50 },
    });
    const uploaded = decideUpload(foldBlob([created])!, new Date(), { bucket: 'uploads', key: `uploads/${blobId}`, size_bytes: 1000 })!;
    for (const event of [created, uploaded]) await store.append(event);

    const [published] = await bus.putEvents([
      { EventBusName: rule.busName, Source: BLOB_EVENT_SOURCE, DetailType: uploaded.type, Detail: JSON.stringify(uploaded) },
    ]);
    expect(published?.EventId).toBeDefined();
    await queues.idle();

    expect(runtime.invocationCounts()[labeler.logicalId]).toBe(queue.redrive!.maxReceiveCount);
    expect(deadLettered).toHaveLength(1);
    const state = foldBlob(await store.read(blobId));
    expect(state).toMatchObject({ invocation_status: 'FAILED', failure: { code: 'LABELING_FAILED', message: expect.stringContaining('retries ran out') } });
    expect(runtime.invocationCounts()[consumer.logicalId]).toBe(1);
  }, 60_000);
});
