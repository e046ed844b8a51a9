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
import { runCommand } from '../../shared/blob/commands.ts';
import { decideCreate, decideUpload } from '../../shared/blob/decisions.ts';
import { foldBlob } from '../../shared/blob/state.ts';
import { currentSchemaVersions, type BlobEvent } from '../../shared/blob/events.ts';
import { DynamoDbEventStore } from '../../shared/event-store/dynamodb-event-store.ts';
import { UnreadableEventError, VersionConflictError } from '../../shared/event-store/event-store.ts';

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

function uploadedAt(event: BlobEvent, version: number, size: number): BlobEvent {
  return { ...event, version, type: 'BlobUploaded', schema_version: currentSchemaVersions.BlobUploaded, data: { bucket: 'b', key: 'k', size_bytes: size } } as BlobEvent;
}

describe('DynamoDbEventStore', () => {
  it('reads back what was appended, in version order', async () => {
    const first = created();
    await store.append(first);
    await store.append(uploadedAt(first, 2, 10));
    const events = await store.read(first.blob_id);
    expect(events.map((e) => [e.type, e.version])).toEqual([
      ['BlobCreated', 1],
      ['BlobUploaded', 2],
    ]);
    expect(events[0]).toEqual(first);
  });

  it('reads many blobs through known versions at once, leaving out a log that is not whole', async () => {
    // 60 blobs of two events: 120 keys, more than one BatchGetItem takes.
    const blobs = Array.from({ length: 60 }, () => created());
    for (const blob of blobs) {
      await store.append(blob);
      await store.append(uploadedAt(blob, 2, 10));
    }
    const onlyCreated = created();
    await store.append(onlyCreated);
    const versions = new Map([...blobs.map((blob) => [blob.blob_id, 2] as const), [onlyCreated.blob_id, 2]]);
    const logs = await store.readThrough(versions);
    expect(logs.size).toBe(60);
    for (const blob of blobs) expect(logs.get(blob.blob_id)).toEqual(await store.read(blob.blob_id));
    // Its version 2 does not exist (yet): the caller falls back to reading it whole.
    expect(logs.has(onlyCreated.blob_id)).toBe(false);
    // Through version 1 only: the log as it was then, even though it has moved on.
    expect((await store.readThrough(new Map([[blobs[0]!.blob_id, 1]]))).get(blobs[0]!.blob_id)).toEqual([blobs[0]]);
  });

  it('lets exactly one of eight racing writers take a version', async () => {
    const first = created();
    await store.append(first);
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, writer) => store.append(uploadedAt(first, 2, writer))),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(7);
    for (const loss of lost) expect(loss.reason).toBeInstanceOf(VersionConflictError);
    expect(await store.read(first.blob_id)).toHaveLength(2);
  });

  it('re-decides on the newer state after losing a race', async () => {
    const first = created();
    await store.append(first);
    // Eight uploads race through the command runner: one is recorded, the rest see it and decide nothing.
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, writer) =>
        runCommand(store, first.blob_id, (state) =>
          state ? decideUpload(state, new Date(), { bucket: 'b', key: 'k', size_bytes: writer }) : null,
        ),
      ),
    );
    expect(outcomes.filter((o) => o.event !== null)).toHaveLength(1);
    expect(outcomes.every((o) => o.state?.invocation_status === 'IN_PROGRESS')).toBe(true);
    expect((await store.read(first.blob_id)).map((e) => e.type)).toEqual(['BlobCreated', 'BlobUploaded']);
  });

  it('decides on a known state without reading, and re-reads when that state was stale', async () => {
    const first = created();
    await store.append(first);
    const known = foldBlob([first])!;
    const decide = (size: number) => (state: Parameters<typeof decideUpload>[0] | undefined) =>
      state ? decideUpload(state, new Date(), { bucket: 'b', key: 'k', size_bytes: size }) : null;
    let reads = 0;
    const counted = { read: (blobId: string) => (reads++, store.read(blobId)), append: store.append.bind(store) };
    const recorded = await runCommand(counted, first.blob_id, decide(1), { knownState: known });
    expect(recorded.event?.version).toBe(2);
    expect(reads).toBe(0);
    // The same known state is now stale: its append conflicts, and the re-read sees the upload.
    const late = await runCommand(counted, first.blob_id, decide(2), { knownState: known });
    expect(reads).toBe(1);
    expect(late.event).toBeNull();
    expect(late.state?.version).toBe(2);
    expect((await store.read(first.blob_id)).map((e) => e.type)).toEqual(['BlobCreated', 'BlobUploaded']);
  });

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
    beforeCapture = () => held;
    const event = created();
    let answered = false;
    const append = store.append(event).then(() => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
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

  it('returns nothing for an unknown blob', async () => {
    expect(await store.read('01JD8Y7N3Q4W5E6R7T8Y9V0000')).toEqual([]);
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
