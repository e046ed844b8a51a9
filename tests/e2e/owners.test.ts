// Whose blobs a caller sees, end to end: two owners with their own API keys (`npm run
// api-keys`) on a stack in AUTH_MODE=api-key. Each sees only their own blobs, by id, by
// event log and in every listing; another owner's blob is answered as an unknown one, so its
// upload URL (the pending-blob takeover of issue 14) and its callback_url reach no one else.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  waitUntilTableExists,
  waitUntilTableNotExists,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, localCredentials, startStackProcess, type StackProcess } from '../support/stack-process.ts';
import { projectRoot } from '../support/template.ts';

const run = promisify(execFile);
const chelsea = readFileSync(new URL('../fixtures/chelsea.png', import.meta.url));
const readModelTable = 'image-labeling-BlobsReadModelTable';
const unknownId = '01JD8Y7N3Q4W5E6R7T8Y9V0K1P';

interface Answer {
  status: number;
  contentType: string | null;
  text: string;
  json: Record<string, unknown>;
}
interface ListBody {
  items: Record<string, unknown>[];
  next_cursor?: string;
}

let stack: StackProcess;
const keys: Record<'alice' | 'bob', string> = { alice: '', bob: '' };
type Owner = keyof typeof keys;
/** Each owner's blobs: one labeled cat and one still waiting for its upload (with a callback_url). */
const blobs: Record<Owner, { cat: string; pending: string; pendingUploadUrl: string }> = {
  alice: { cat: '', pending: '', pendingUploadUrl: '' },
  bob: { cat: '', pending: '', pendingUploadUrl: '' },
};
const hook = (owner: Owner) => `http://127.0.0.1:9/hooks/${owner}`;

async function call(owner: Owner, path: string, init: RequestInit = {}): Promise<Answer> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${keys[owner]}`);
  const response = await fetch(`${stack.apiUrl}${path}`, { ...init, headers });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type'), text, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function list(owner: Owner, query = ''): Promise<ListBody> {
  const answer = await call(owner, `/blobs${query}`);
  expect(answer.status, answer.text).toBe(200);
  return answer.json as unknown as ListBody;
}

const idsOf = (body: ListBody) => body.items.map((item) => item.blob_id);

async function create(owner: Owner, body: Record<string, unknown> = {}) {
  const answer = await call(owner, '/blobs', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  expect(answer.status, answer.text).toBe(201);
  return answer.json as { blob_id: string; upload_url: string };
}

async function statusOf(owner: Owner, blobId: string) {
  return (await call(owner, `/blobs/${blobId}`)).json.invocation_status;
}

/** The 404 for an unknown id, with that id swapped for `blobId`: what any foreign blob must look like. */
async function unknownAnswerFor(owner: Owner, path: (id: string) => string, blobId: string) {
  const unknown = await call(owner, path(unknownId));
  expect(unknown.status).toBe(404);
  return { ...unknown, text: unknown.text.replaceAll(unknownId, blobId) };
}

beforeAll(async () => {
  stack = await startStackProcess({ env: { AUTH_MODE: 'api-key', DETECTOR_WORKERS: '1' } });
  for (const owner of ['alice', 'bob'] as const) {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/api-keys.ts', 'create', '--owner', owner], {
      cwd: projectRoot,
      env: { ...process.env, DATA_DIR: stack.dataDirectory },
    });
    keys[owner] = (JSON.parse(stdout.trim()) as { api_key: string }).api_key;
  }
  for (const owner of ['alice', 'bob'] as const) {
    const cat = await create(owner);
    const put = await fetch(cat.upload_url, { method: 'PUT', body: chelsea, headers: { 'content-type': 'image/png' } });
    expect(put.status).toBe(200);
    const pending = await create(owner, { callback_url: hook(owner) });
    blobs[owner] = { cat: cat.blob_id, pending: pending.blob_id, pendingUploadUrl: pending.upload_url };
  }
  for (const owner of ['alice', 'bob'] as const) {
    await eventually(async () => (await statusOf(owner, blobs[owner].cat)) === 'COMPLETED', 60_000);
    // The read model follows the log: wait until it shows the owner's two blobs, the cat labeled.
    await eventually(async () => idsOf(await list(owner, '?label=Cat')).includes(blobs[owner].cat) && idsOf(await list(owner)).includes(blobs[owner].pending));
  }
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

describe('two owners, each with an API key', () => {
  it('each gets their own blobs by id, and the other\'s answered exactly as an unknown id', async () => {
    for (const [owner, other] of [['alice', 'bob'], ['bob', 'alice']] as const) {
      for (const blobId of [blobs[owner].cat, blobs[owner].pending]) {
        const own = await call(owner, `/blobs/${blobId}`);
        expect(own.status).toBe(200);
        expect(own.json.blob_id).toBe(blobId);

        const foreign = await call(other, `/blobs/${blobId}`);
        const unknown = await unknownAnswerFor(other, (id) => `/blobs/${id}`, blobId);
        expect(foreign.status).toBe(404);
        expect(foreign.contentType).toBe(unknown.contentType);
        expect(foreign.text).toBe(unknown.text);
        expect(foreign.json).toMatchObject({ status: 404, title: 'Not Found', detail: `There is no blob ${blobId}.` });
      }
    }
  });

  it("each gets their own event log, and the other's answered exactly as an unknown id", async () => {
    for (const [owner, other] of [['alice', 'bob'], ['bob', 'alice']] as const) {
      const own = await call(owner, `/blobs/${blobs[owner].cat}/events`);
      expect(own.status).toBe(200);
      const events = own.json.events as { type: string; schema_version: number; data: Record<string, unknown> }[];
      expect(events.map((event) => event.type)).toEqual(['BlobCreated', 'BlobUploaded', 'BlobLabeled']);
      expect(events[0]).toMatchObject({ schema_version: 2, data: { owner } });

      for (const blobId of [blobs[owner].cat, blobs[owner].pending]) {
        const foreign = await call(other, `/blobs/${blobId}/events`);
        const unknown = await unknownAnswerFor(other, (id) => `/blobs/${id}/events`, blobId);
        expect(foreign.status).toBe(404);
        expect(foreign.contentType).toBe(unknown.contentType);
        expect(foreign.text).toBe(unknown.text);
      }
    }
  });

  it('each lists only their own blobs: all, by status and by label', async () => {
    for (const [owner, other] of [['alice', 'bob'], ['bob', 'alice']] as const) {
      expect(idsOf(await list(owner))).toEqual([blobs[owner].pending, blobs[owner].cat]);
      expect(idsOf(await list(owner, '?status=ACTION_REQUIRED'))).toEqual([blobs[owner].pending]);
      expect(idsOf(await list(owner, '?status=COMPLETED'))).toEqual([blobs[owner].cat]);
      // A real labeled photo: both cats are Cats, each owner finds only their own.
      expect(idsOf(await list(owner, '?label=Cat'))).toEqual([blobs[owner].cat]);
      expect(idsOf(await list(owner, '?label=Cat&status=COMPLETED'))).toEqual([blobs[owner].cat]);
      // Nothing of the other owner's in any listing: not its ids, not its callback_url.
      const everything = JSON.stringify([await list(owner), await list(owner, '?status=ACTION_REQUIRED'), await list(owner, '?label=Cat')]);
      for (const id of Object.values(blobs[other]).slice(0, 2)) expect(everything).not.toContain(id);
      expect(everything).not.toContain(hook(other));
      expect(everything).toContain(hook(owner));
      // A list shows no upload URL, not even the owner's.
      expect(everything).not.toContain('upload_url');
    }
  });

  it("refuses a cursor of another owner's listing instead of following it", async () => {
    const page = await list('alice', '?limit=1');
    expect(page.next_cursor).toBeDefined();
    const cursor = encodeURIComponent(page.next_cursor!);
    expect(idsOf(await list('alice', `?limit=1&cursor=${cursor}`))).toEqual([blobs.alice.cat]);
    const foreign = await call('bob', `/blobs?limit=1&cursor=${cursor}`);
    expect(foreign.status).toBe(400);
    expect(foreign.contentType).toBe('application/problem+json');
    expect(foreign.json.errors).toEqual([{ parameter: 'cursor', detail: 'cursor is not one this API handed out' }]);
  });

  it("no longer lets another owner take over a pending blob: no URL for bob, alice's own upload is labeled", async () => {
    // The takeover was: list ACTION_REQUIRED, GET the blob for a fresh upload URL, upload first.
    expect(idsOf(await list('bob', '?status=ACTION_REQUIRED'))).not.toContain(blobs.alice.pending);
    const asBob = await call('bob', `/blobs/${blobs.alice.pending}`);
    expect(asBob.status).toBe(404);
    expect(asBob.text).not.toMatch(/upload|X-Amz|https?:/i);

    const asAlice = await call('alice', `/blobs/${blobs.alice.pending}`);
    expect(asAlice.json).toMatchObject({ invocation_status: 'ACTION_REQUIRED', upload_url: expect.any(String), callback_url: hook('alice') });
    const put = await fetch(asAlice.json.upload_url as string, { method: 'PUT', body: chelsea, headers: { 'content-type': 'image/png' } });
    expect(put.status).toBe(200);
    await eventually(async () => (await statusOf('alice', blobs.alice.pending)) === 'COMPLETED', 60_000);
    expect((await call('alice', `/blobs/${blobs.alice.pending}`)).json.labels).toContain('Cat');
    expect((await call('bob', `/blobs/${blobs.alice.pending}`)).status).toBe(404);
    await eventually(async () => idsOf(await list('alice', '?label=Cat')).includes(blobs.alice.pending));
    expect(idsOf(await list('bob', '?label=Cat'))).toEqual([blobs.bob.cat]);
  }, 90_000);
});

describe('a read model written before owners', () => {
  const documents = () =>
    DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: stack.endpoints.dynamodb, region: 'us-east-1', credentials: localCredentials }));
  const scan = async () => ((await documents().send(new ScanCommand({ TableName: readModelTable, ConsistentRead: true }))).Items ?? []) as Record<string, unknown>[];
  const keysOf = (rows: Record<string, unknown>[]) => rows.map((row) => `${String(row.pk)}/${String(row.sk)}`).sort();
  const listings = async () =>
    Promise.all((['alice', 'bob'] as const).flatMap((owner) => ['', '?status=ACTION_REQUIRED', '?label=Cat'].map(async (query) => idsOf(await list(owner, query)))));
  const rebuild = async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/rebuild-projections.ts', '--from-scratch'], {
      cwd: projectRoot,
      env: { ...process.env, DATA_DIR: stack.dataDirectory },
    });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  };

  it('is never listed to anyone: the owner-keyed queries do not match its rows, and the rebuild clears them', async () => {
    const ownerKeyed = keysOf(await scan());
    const before = await listings();
    // Rows as the read model wrote them before owners: one list for everyone, status and label
    // partitions shared by all (here of a blob whose log is gone, so the rebuild cannot remake them).
    const blob = { blob_id: unknownId, invocation_status: 'ACTION_REQUIRED', blob: { blob_id: unknownId, invocation_status: 'ACTION_REQUIRED' } };
    await documents().send(new PutCommand({ TableName: readModelTable, Item: { ...blob, pk: `BLOB#${unknownId}`, sk: 'BLOB', version: 1, list_pk: 'BLOBS', status_pk: 'STATUS#ACTION_REQUIRED' } }));
    await documents().send(new PutCommand({ TableName: readModelTable, Item: { pk: 'LABEL#Cat', sk: unknownId, blob_id: unknownId, invocation_status: 'COMPLETED' } }));
    expect(await listings()).toEqual(before);
    expect(JSON.stringify(before)).not.toContain(unknownId);

    expect(await rebuild()).toMatchObject({ blobs: 4 });
    // The old rows are gone; what is left is exactly what the live projector wrote.
    expect(keysOf(await scan())).toEqual(ownerKeyed);
    expect(await listings()).toEqual(before);
  });

  it("locally, made before the Unfinished index: lists nothing until the rebuild remakes the table from the template", async () => {
    const live = await scan();
    const before = await listings();
    // The table as template.yaml declared it before owners, with every row in the old format.
    const client = new DynamoDBClient({ endpoint: stack.endpoints.dynamodb, region: 'us-east-1', credentials: localCredentials });
    const index = (name: string, hash: string) => ({
      IndexName: name,
      KeySchema: [{ AttributeName: hash, KeyType: 'HASH' as const }, { AttributeName: 'blob_id', KeyType: 'RANGE' as const }],
      Projection: { ProjectionType: 'ALL' as const },
    });
    const waiting = { client, minDelay: 1, maxDelay: 2, maxWaitTime: 30 };
    await client.send(new DeleteTableCommand({ TableName: readModelTable }));
    await waitUntilTableNotExists(waiting, { TableName: readModelTable });
    await client.send(
      new CreateTableCommand({
        TableName: readModelTable,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
        AttributeDefinitions: ['pk', 'sk', 'blob_id', 'list_pk', 'status_pk'].map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
        GlobalSecondaryIndexes: [index('All', 'list_pk'), index('ByStatus', 'status_pk')],
      }),
    );
    await waitUntilTableExists(waiting, { TableName: readModelTable });
    for (const row of live) {
      const { owner: _owner, unfinished_pk: _unfinished, ...rest } = row;
      const old =
        row.sk === 'BLOB'
          ? { ...rest, list_pk: 'BLOBS', status_pk: `STATUS#${String(row.invocation_status)}` }
          : { ...rest, pk: `LABEL#${String(row.pk).split('#LABEL#')[1]}` };
      await documents().send(new PutCommand({ TableName: readModelTable, Item: old }));
    }
    // Nobody sees anything until the rebuild, least of all another owner's blobs.
    expect((await listings()).flat()).toEqual([]);

    expect(await rebuild()).toMatchObject({ blobs: 4, recreated_table: expect.any(String) });
    const { Table } = await client.send(new DescribeTableCommand({ TableName: readModelTable }));
    expect(Table!.GlobalSecondaryIndexes!.map((gsi) => gsi.IndexName).sort()).toEqual(['All', 'ByStatus', 'Unfinished']);
    expect(keysOf(await scan())).toEqual(keysOf(live));
    expect(await listings()).toEqual(before);
    // A second rebuild leaves the table as it is.
    expect(await rebuild()).not.toHaveProperty('recreated_table');
    client.destroy();
  });
});
