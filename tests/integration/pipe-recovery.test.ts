// The no-dual-write promise at its weakest point: an event committed to the log whose
// stream capture never happened (the process died in between). The pipe's start-up sweep
// must find it and publish it, once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DurableQueues } from '../../local/durable-queue.ts';
import { startDynamoDb, type LocalDynamoDb } from '../../local/dynamodb.ts';
import { LocalEventBridge, type PutEventsEntry } from '../../local/eventbridge/bus.ts';
import { LocalPipe } from '../../local/eventbridge/pipe.ts';
import { LambdaRuntime, sourceModule } from '../../local/lambda-runtime.ts';
import { loadTestTemplate, projectRoot } from '../support/template.ts';
import { decideCreate } from '../../shared/blob/decisions.ts';
import type { BlobEvent } from '../../shared/blob/events.ts';
import { DynamoDbEventStore } from '../../shared/event-store/dynamodb-event-store.ts';

const template = loadTestTemplate();
const definition = template.pipes[0]!;
const table = template.tables.find((t) => t.name === definition.sourceTable)!;

let directory: string;
let dynamodb: LocalDynamoDb;
let queues: DurableQueues;
let pipe: LocalPipe;
const published: PutEventsEntry[] = [];

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'pipe-recovery-'));
  // The crash: dynalite commits, but the capture never runs.
  dynamodb = await startDynamoDb({ directory: join(directory, 'db'), host: '127.0.0.1', tables: template.tables, onInsert: async () => {} });
  queues = await DurableQueues.open(join(directory, 'queues'));
  const runtime = new LambdaRuntime(sourceModule(projectRoot));
  await runtime.load(template.functions.filter((fn) => fn.logicalId === definition.enrichmentFunction));
  const bus = new LocalEventBridge({
    buses: template.buses,
    rules: [],
    queues,
    runtime,
    region: 'us-east-1',
    accountId: '000000000000',
    logger: { error: () => {} },
  });
  const putEvents = bus.putEvents.bind(bus);
  bus.putEvents = async (entries) => {
    published.push(...entries);
    return putEvents(entries);
  };
  pipe = new LocalPipe(definition, { table, queues, runtime, bus, region: 'us-east-1' });
  pipe.start();
});

afterAll(async () => {
  await queues.close();
  await dynamodb.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('the pipe after a crash between the write and the capture', () => {
  it('publishes what the log holds but the stream missed, in order, exactly once', async () => {
    const store = new DynamoDbEventStore(DynamoDBDocumentClient.from(dynamodb.client), table.name);
    const blobId = '01JD8Y7N3Q4W5E6R7T8Y9V0K1P';
    const created = decideCreate(blobId, new Date(), { upload: { bucket: 'b', key: `uploads/${blobId}`, expires_at: new Date().toISOString() }, labeling: { max_labels: 10, min_confidence: 50 } });
    const uploaded: BlobEvent = { ...created, version: 2, type: 'BlobUploaded', schema_version: 1, data: { bucket: 'b', key: `uploads/${blobId}`, size_bytes: 3 } };
    await store.append(created);
    await store.append(uploaded);
    expect(published).toHaveLength(0);

    expect(await pipe.recover(dynamodb.client)).toBe(2);
    await queues.idle();
    expect(published.map((entry) => entry.DetailType)).toEqual(['BlobCreated', 'BlobUploaded']);
    expect(published.every((entry) => entry.Source === 'image-labeling.blobs')).toBe(true);
    expect(JSON.parse(published[1]!.Detail!)).toEqual(uploaded);

    // A second start-up finds nothing left to publish.
    expect(await pipe.recover(dynamodb.client)).toBe(0);
  });
});
