// The read side: listing by status and label with pagination, the events endpoint, a
// projector that shrugs off duplicates, and a read model that rebuilds to the same rows.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, localCredentials, startStackProcess, waitForStatus, type StackProcess } from '../support/stack-process.ts';
import { projectRoot } from '../support/template.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
const readModelTable = 'image-labeling-BlobsReadModelTable';

let stack: StackProcess;
const ids = { cats: [] as string[], horses: [] as string[], failed: [] as string[], waiting: [] as string[] };

async function submit(bytes?: Buffer): Promise<string> {
  const { data } = await stack.api.POST('/blobs', {});
  if (bytes) await fetch(data!.upload_url!, { method: 'PUT', body: bytes, headers: { 'content-type': 'image/png' } });
  return data!.blob_id;
}

async function list(query: string) {
  const response = await fetch(`${stack.apiUrl}/blobs${query}`);
  return { status: response.status, body: (await response.json()) as { items: { blob_id: string; invocation_status: string }[]; next_cursor?: string; _links: { self: string; next?: string } } };
}

async function scanReadModel() {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: stack.endpoints.dynamodb, region: 'us-east-1', credentials: localCredentials }));
  const { Items = [] } = await client.send(new ScanCommand({ TableName: readModelTable, ConsistentRead: true }));
  return Items.sort((a, b) => `${a.pk}/${a.sk}`.localeCompare(`${b.pk}/${b.sk}`));
}

beforeAll(async () => {
  stack = await startStackProcess();
  // Created in this order, so newest first is the reverse.
  ids.cats.push(await submit(fixture('chelsea.png')));
  ids.horses.push(await submit(fixture('horse.png')));
  ids.failed.push(await submit(Buffer.from('plain text')));
  ids.waiting.push(await submit());
  ids.cats.push(await submit(fixture('chelsea.png')));
  ids.horses.push(await submit(fixture('horse.png')));
  ids.waiting.push(await submit());
  for (const id of [...ids.cats, ...ids.horses, ...ids.failed]) await waitForStatus(stack, id, ['COMPLETED', 'FAILED']);
  // The read model follows the log: wait until it shows every blob in its final state.
  await eventually(async () => {
    const { body } = await list('?limit=100');
    return body.items.length === 7 && body.items.filter((item) => item.invocation_status === 'COMPLETED').length === 4;
  });
});
afterAll(async () => {
  await stack?.stop();
});

const all = () => [...ids.cats, ...ids.horses, ...ids.failed, ...ids.waiting];

describe('GET /blobs', () => {
  it('lists every blob, newest first, as full blob resources', async () => {
    const { status, body } = await list('');
    expect(status).toBe(200);
    expect(body.items.map((item) => item.blob_id)).toEqual([...all()].sort().reverse());
    expect(body.items[0]).toMatchObject({ _links: { status: `${stack.apiUrl}/blobs/${body.items[0]!.blob_id}` } });
    expect(body.next_cursor).toBeUndefined();
  });

  it('pages with an opaque cursor until the last page', async () => {
    const seen: string[] = [];
    let query = '?limit=2';
    for (let page = 0; page < 10; page++) {
      const { body } = await list(query);
      expect(body.items.length).toBeLessThanOrEqual(2);
      seen.push(...body.items.map((item) => item.blob_id));
      if (!body.next_cursor) break;
      expect(body._links.next).toContain(`cursor=${encodeURIComponent(body.next_cursor)}`);
      query = `?limit=2&cursor=${encodeURIComponent(body.next_cursor)}`;
    }
    expect(seen).toEqual([...all()].sort().reverse());
  });

  it('filters by label', async () => {
    const cats = await list('?label=Cat');
    expect(cats.body.items.map((item) => item.blob_id)).toEqual([...ids.cats].reverse());
    const horses = await list('?label=Horse&status=COMPLETED');
    expect(horses.body.items.map((item) => item.blob_id)).toEqual([...ids.horses].reverse());
    expect((await list('?label=Cat&status=FAILED')).body.items).toEqual([]);
    expect((await list('?label=Giraffe')).body.items).toEqual([]);
  });

  it('filters by status', async () => {
    expect((await list('?status=FAILED')).body.items.map((item) => item.blob_id)).toEqual(ids.failed);
    expect((await list('?status=ACTION_REQUIRED')).body.items.map((item) => item.blob_id)).toEqual([...ids.waiting].reverse());
    const completed = (await list('?status=COMPLETED')).body.items.map((item) => item.blob_id);
    expect(completed).toEqual([...ids.cats, ...ids.horses].sort().reverse());
  });

  it('pages a filtered listing', async () => {
    const first = await list('?status=COMPLETED&limit=3');
    expect(first.body.items).toHaveLength(3);
    const second = await list(`?status=COMPLETED&limit=3&cursor=${encodeURIComponent(first.body.next_cursor!)}`);
    expect([...first.body.items, ...second.body.items].map((item) => item.blob_id)).toEqual([...ids.cats, ...ids.horses].sort().reverse());
  });

  it.each([
    ['?limit=0', 'limit'],
    ['?limit=101', 'limit'],
    ['?limit=ten', 'limit'],
    ['?limit=2.5', 'limit'],
    ['?limit=', 'limit'],
    ['?status=DONE', 'status'],
    ['?cursor=not-a-cursor', 'cursor'],
    // Valid JSON, of the wrong shape: each used to be a 500.
    ...[
      null,
      42,
      { p: [], f: { status: null, label: null } },
      { p: { foo: 'bar' }, f: { status: null, label: null } },
      { p: { pk: 1, sk: 'BLOB', list_pk: 'BLOBS', blob_id: 'x' }, f: { status: null, label: null } },
      { p: { pk: 'BLOB#x', sk: 'BLOB', list_pk: 'OTHER', blob_id: 'x' }, f: { status: null, label: null } },
    ].map((cursor) => [`?cursor=${Buffer.from(JSON.stringify(cursor)).toString('base64url')}`, 'cursor']),
  ])('refuses %s with 400 naming %s', async (query, parameter) => {
    const response = await fetch(`${stack.apiUrl}/blobs${query}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(((await response.json()) as { errors: { parameter: string }[] }).errors[0]!.parameter).toBe(parameter);
  });

  it('says what limit and status must be', async () => {
    const response = await fetch(`${stack.apiUrl}/blobs?limit=101&status=DONE`);
    expect(((await response.json()) as { errors: unknown[] }).errors).toEqual([
      { parameter: 'status', detail: 'status must be one of ACTION_REQUIRED, IN_PROGRESS, COMPLETED, FAILED, EXPIRED' },
      { parameter: 'limit', detail: 'limit must be a whole number from 1 to 100' },
    ]);
  });

  it('says the same of a limit that is not a number: the contract declares an integer', async () => {
    const response = await fetch(`${stack.apiUrl}/blobs?limit=ten`);
    expect(((await response.json()) as { errors: unknown[] }).errors).toEqual([
      { parameter: 'limit', detail: 'limit must be a whole number from 1 to 100' },
    ]);
  });

  it('refuses a cursor reused with other filters', async () => {
    const { body } = await list('?label=Cat&limit=1');
    const response = await fetch(`${stack.apiUrl}/blobs?label=Horse&cursor=${encodeURIComponent(body.next_cursor!)}`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { detail: string }).detail).toMatch(/other filters/);
  });
});

describe('GET /blobs/{blob_id}/events', () => {
  it('returns the blob event log, oldest first', async () => {
    const { data, response } = await stack.api.GET('/blobs/{blob_id}/events', { params: { path: { blob_id: ids.cats[0]! } } });
    expect(response.status).toBe(200);
    expect(data!.blob_id).toBe(ids.cats[0]);
    expect(data!.events.map((event) => [event.type, event.version])).toEqual([
      ['BlobCreated', 1],
      ['BlobUploaded', 2],
      ['BlobLabeled', 3],
    ]);
    expect(data!.events[2]!.data).toMatchObject({ model: expect.any(String), labels: expect.arrayContaining([expect.objectContaining({ name: 'Cat' })]) });
    for (const event of data!.events) expect(Date.parse(event.occurred_at)).not.toBeNaN();
  });

  it('404s for an unknown blob and 400s for a malformed id', async () => {
    expect((await fetch(`${stack.apiUrl}/blobs/01JD8Y7N3Q4W5E6R7T8Y9V0K1P/events`)).status).toBe(404);
    expect((await fetch(`${stack.apiUrl}/blobs/nope/events`)).status).toBe(400);
  });
});

describe('the projector and the rebuild', () => {
  it('writes the same rows when an event is delivered again', async () => {
    const before = await scanReadModel();
    const { data } = await stack.api.GET('/blobs/{blob_id}/events', { params: { path: { blob_id: ids.horses[0]! } } });
    const labeled = { blob_id: ids.horses[0], ...data!.events[2] };
    const eventBridge = new EventBridgeClient({ endpoint: stack.endpoints.eventbridge, region: 'us-east-1', credentials: localCredentials });
    const entry = { EventBusName: 'image-labeling-blobs', Source: 'image-labeling.blobs', DetailType: 'BlobLabeled', Detail: JSON.stringify(labeled) };
    const projections = () =>
      stack.logs().filter((line) => line.blob_id === ids.horses[0] && line.message === 'projected' && line.type === 'BlobLabeled').length;
    // Twice, one after the other: two events in one batch would be projected once.
    for (const expected of [2, 3]) {
      await eventBridge.send(new PutEventsCommand({ Entries: [entry] }));
      await eventually(async () => projections() >= expected);
      expect(await scanReadModel()).toEqual(before);
    }
  });

  it('leaves a newer row alone when a blob\'s first event arrives late', async () => {
    const before = await scanReadModel();
    const { data } = await stack.api.GET('/blobs/{blob_id}/events', { params: { path: { blob_id: ids.cats[0]! } } });
    const created = { blob_id: ids.cats[0], ...data!.events[0] };
    expect(created.type).toBe('BlobCreated');
    const eventBridge = new EventBridgeClient({ endpoint: stack.endpoints.eventbridge, region: 'us-east-1', credentials: localCredentials });
    const entry = { EventBusName: 'image-labeling-blobs', Source: 'image-labeling.blobs', DetailType: 'BlobCreated', Detail: JSON.stringify(created) };
    await eventBridge.send(new PutEventsCommand({ Entries: [entry] }));
    await eventually(async () =>
      stack.logs().some((line) => line.blob_id === ids.cats[0] && line.message === 'projected' && line.type === 'BlobCreated' && line.outcome === 'stale'),
    );
    expect(await scanReadModel()).toEqual(before);
  });

  it('rebuilds from the log to exactly the live read model', async () => {
    const live = await scanReadModel();
    expect(live.length).toBeGreaterThan(7); // blob rows plus label rows
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/rebuild-projections.ts', '--from-scratch'], {
      cwd: projectRoot,
      env: { ...process.env, DATA_DIR: stack.dataDirectory },
    });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toMatchObject({ blobs: 7, deletedRows: live.length });
    expect(await scanReadModel()).toEqual(live);
  });
});
