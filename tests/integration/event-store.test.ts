// The event log against the local DynamoDB (dynalite with its stream capture):
// the conditional put is what lets exactly one writer win a version.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDynamoDb, type LocalDynamoDb, type StreamInsert } from '../../local/dynamodb.ts';
import { loadTestTemplate } from '../support/template.ts';
import { decideCreate } from '../../shared/blob/decisions.ts';
import type { BlobEvent } from '../../shared/blob/events.ts';
import { DynamoDbEventStore } from '../../shared/event-store/dynamodb-event-store.ts';
import { UnreadableEventError, VersionConflictError } from '../../shared/event-store/event-store.ts';
import { eventStoreContract } from '../support/event-store-contract.ts';

const template = loadTestTemplate();
const table = template.tables[0]!;
let directory: string;
let dynamodb: LocalDynamoDb;
let store: DynamoDbEventStore;
let documents: DynamoDBDocumentClient;
const inserts: StreamInsert[] = [];
let beforeCapture: (insert: StreamInsert) => Promise<void> = async () => {};

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'event-store-'));
  dynamodb = await startDynamoDb({
    directory,
    host: '127.0.0.1',
    tables: template.tables,
    onInsert: async (insert) => {
      await beforeCapture(insert);
      inserts.push(insert);
    },
  });
  const client = DynamoDBDocumentClient.from(dynamodb.client, { marshallOptions: { removeUndefinedValues: true } });
  store = new DynamoDbEventStore(client, table.name);
  documents = client;
});

afterEach(() => {
  beforeCapture = async () => {};
});

afterAll(async () => {
  await dynamodb.close();
  rmSync(directory, { recursive: true, force: true });
});

let counter = 0;
function created(): BlobEvent {
  const blobId = `01JD8Y7N3Q4W5E6R7T8Y9V${String(++counter).padStart(4, '0')}`;
  return decideCreate(blobId, new Date(), { upload: { bucket: 'b', key: `uploads/${blobId}`, expires_at: new Date().toISOString() }, labeling: { max_labels: 10, min_confidence: 50 } });
}

// What the product relies on, as the in-memory adapter does too.
eventStoreContract('DynamoDbEventStore', () => store);

describe('DynamoDbEventStore', () => {
  it('streams every successful insert, and nothing for a refused one', async () => {
    const before = inserts.length;
    const first = created();
    await store.append(first);
    await expect(store.append(first)).rejects.toBeInstanceOf(VersionConflictError);
    expect(inserts.length).toBe(before + 1);
    expect(inserts.at(-1)?.newImage.blob_id).toEqual({ S: first.blob_id });
    expect(inserts.at(-1)?.keys).toEqual({ blob_id: { S: first.blob_id }, version: { N: '1' } });
  });

  it('answers a put only once its stream record is captured', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let capturing!: () => void;
    const captureStarted = new Promise<void>((resolve) => (capturing = resolve));
    beforeCapture = () => (capturing(), held);
    const event = created();
    let answered = false;
    const append = store.append(event).then(() => (answered = true));
    await captureStarted;
    // A request sent after it is answered meanwhile; the put, held in its capture, is not.
    expect(await store.read(created().blob_id)).toEqual([]);
    expect(answered).toBe(false);
    release();
    await append;
    expect(inserts.at(-1)?.newImage.blob_id).toEqual({ S: event.blob_id });
  });

  it('answers 500 InternalServerError when the capture fails, so the writer does not take it as done', async () => {
    beforeCapture = async () => {
      throw new Error('disk full');
    };
    const client = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: dynamodb.url, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' }, maxAttempts: 1 }),
    );
    const failing = new DynamoDbEventStore(client, table.name);
    const error = await failing.append(created()).then(() => undefined, (caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'InternalServerError', $metadata: { httpStatusCode: 500 } });
    client.destroy();
  });

  it('parses what it reads: an item that is not a blob event is an UnreadableEventError, not a cast', async () => {
    const first = created();
    await store.append(first);
    // Written past the store, as another writer or a bad migration could.
    const item = { blob_id: first.blob_id, version: 2, type: 'BlobUploaded', schema_version: 1, occurred_at: first.occurred_at, data: { bucket: 'b' } };
    await documents.send(new PutCommand({ TableName: table.name, Item: item }));
    const error = await store.read(first.blob_id).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(UnreadableEventError);
    expect((error as UnreadableEventError).version).toBe(2);
    expect(String((error as Error).message)).toMatch(/data\.key|key/);
    await expect(store.readThrough(new Map([[first.blob_id, 2]]))).rejects.toBeInstanceOf(UnreadableEventError);
  });

});

describe('an append whose answer timed out', () => {
  it('is a success when the retry finds the very event written, and still a conflict when another one is there', async () => {
    const impatient = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: dynamodb.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true },
      }),
      { marshallOptions: { removeUndefinedValues: true } },
    );
    const timingOut = new DynamoDbEventStore(impatient, table.name);
    // The write is made, but its answer is held past the client's timeout: the SDK retries.
    let held = 0;
    beforeCapture = async () => {
      if (held++ === 0) await new Promise((resolve) => setTimeout(resolve, 800));
    };
    const event = created();
    await timingOut.append(event);
    expect(held).toBe(1);
    expect(await store.read(event.blob_id)).toEqual([event]);

    held = 0;
    await expect(timingOut.append({ ...event, occurred_at: new Date(0).toISOString() })).rejects.toBeInstanceOf(VersionConflictError);
    impatient.destroy();
  });
});
