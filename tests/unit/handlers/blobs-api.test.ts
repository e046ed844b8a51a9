// The HTTP functions of one blob (POST /blobs, GET /blobs/{blob_id}, its events) and the route
// fallback, each with its whole Middy chain (authenticated caller, body parser, the contract's
// validator, problem+json errors), on requests as API Gateway hands them over with the API key
// authorizer's verdict. The log is the in-memory event store; presigning an upload URL needs
// no network.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as createBlob } from '../../../functions/create-blob.ts';
import { handler as getBlobEvents } from '../../../functions/get-blob-events.ts';
import { handler as getBlob } from '../../../functions/get-blob.ts';
import { handler as routeNotFound } from '../../../functions/route-not-found.ts';
import { InMemoryEventStore } from '../../../shared/event-store/in-memory-event-store.ts';
import { httpRequest, lambdaContext } from '../../support/lambda.ts';

const memory = vi.hoisted(() => ({ store: undefined as unknown as InMemoryEventStore }));
vi.mock(import('../../../shared/event-store/index.ts'), async (original) => ({ ...(await original()), eventStore: () => memory.store }));

type Handler = (event: never, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;
async function call(fn: Handler, event: APIGatewayProxyEventV2) {
  const response = (await fn(event as never, lambdaContext('HttpFunction'))) as APIGatewayProxyStructuredResultV2;
  return { status: response.statusCode, headers: response.headers ?? {}, body: JSON.parse(String(response.body)) as Record<string, unknown> };
}

const create = (owner: string | null, body: unknown) =>
  call(createBlob, httpRequest('POST', '/blobs', { owner, body: typeof body === 'string' ? body : JSON.stringify(body) }));
const read = (owner: string | null, blobId: string) => call(getBlob, httpRequest('GET', `/blobs/${blobId}`, { owner, pathParameters: { blob_id: blobId } }));
const readEvents = (owner: string | null, blobId: string) =>
  call(getBlobEvents, httpRequest('GET', `/blobs/${blobId}/events`, { owner, pathParameters: { blob_id: blobId } }));

beforeAll(() => {
  Object.assign(process.env, {
    EVENTS_TABLE: 'events',
    READ_MODEL_TABLE: 'read-model',
    UPLOAD_BUCKET: 'uploads',
    AUTH_MODE: 'ApiKey',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
});
beforeEach(() => {
  memory.store = new InMemoryEventStore();
});

describe('POST /blobs, then GET /blobs/{blob_id} and its events', () => {
  it("records the blob as its caller's and hands back where to upload it", async () => {
    const created = await create('alice', { callback_url: 'https://example.com/hooks/labels', max_labels: 5 });
    expect(created.status).toBe(201);
    const blobId = String(created.body.blob_id);
    expect(created.headers.location).toBe(`https://api.example.com/blobs/${blobId}`);
    expect(created.body).toMatchObject({ invocation_status: 'ACTION_REQUIRED', max_labels: 5, callback_url: 'https://example.com/hooks/labels' });
    expect(new URL(String(created.body.upload_url)).pathname).toBe(`/uploads/${blobId}`);

    const [event] = await memory.store.read(blobId);
    expect(event).toMatchObject({ type: 'BlobCreated', version: 1, data: { owner: 'alice', labeling: { max_labels: 5 }, upload: { bucket: 'uploads', key: `uploads/${blobId}` } } });

    const state = await read('alice', blobId);
    expect(state.status).toBe(200);
    expect(state.body).toMatchObject({ blob_id: blobId, invocation_status: 'ACTION_REQUIRED' });
    expect(state.body.upload_url).toEqual(expect.any(String));
    const log = await readEvents('alice', blobId);
    expect(log.body).toEqual({ blob_id: blobId, events: [{ type: 'BlobCreated', version: 1, schema_version: event!.schema_version, occurred_at: event!.occurred_at, data: event!.data }] });
  });

  it("answers another owner as if the blob did not exist: the same 404 as for an unknown id", async () => {
    const blobId = String((await create('alice', {})).body.blob_id);
    const unknown = '01M87ARFEB9P1S7007NF10H0R4';
    for (const answer of [await read('bob', blobId), await readEvents('bob', blobId)]) {
      expect(answer.status).toBe(404);
      expect(answer.headers['content-type']).toBe('application/problem+json');
      expect(answer.body.upload_url).toBeUndefined();
    }
    expect((await read('bob', blobId)).body.detail).toBe(String((await read('bob', unknown)).body.detail).replace(unknown, blobId));
  });

  it('refuses a caller whose key the authorizer did not accept, before reading anything', async () => {
    const answer = await create(null, {});
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toBe('Bearer realm="image-labeling"');
    expect(memory.store.blobIds()).toEqual([]);
  });

  it('answers bad input with 400 problem+json naming what was wrong, and records nothing', async () => {
    const outOfRange = await create('alice', { max_labels: 0 });
    expect(outOfRange.status).toBe(400);
    expect(outOfRange.headers['content-type']).toBe('application/problem+json');
    expect(outOfRange.body.errors).toEqual([expect.objectContaining({ pointer: '#/max_labels' })]);
    const unknownField = await create('alice', { max_label: 5 });
    expect(unknownField.body.errors).toEqual([{ pointer: '#/max_label', detail: 'max_label is not a known field' }]);
    const malformed = await create('alice', '{"max_labels": ');
    expect(malformed.status).toBe(400);
    expect(String(malformed.body.detail)).toMatch(/^The request body is not valid JSON/);
    const inside = await create('alice', { callback_url: 'http://10.0.0.7/hook' });
    expect(inside.status).toBe(400);
    expect(inside.body.errors).toEqual([expect.objectContaining({ pointer: '#/callback_url' })]);
    const badId = await read('alice', 'not-a-ulid');
    expect(badId.status).toBe(400);
    expect(badId.body.errors).toEqual([expect.objectContaining({ parameter: 'blob_id' })]);
    expect(memory.store.blobIds()).toEqual([]);
  });
});

describe('a request no operation matches', () => {
  it('is a 405 with Allow on a known path, a 404 elsewhere', async () => {
    const wrongMethod = await call(routeNotFound, httpRequest('DELETE', '/blobs', { owner: 'alice' }));
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('GET, POST');
    const nowhere = await call(routeNotFound, httpRequest('GET', '/nothing', { owner: 'alice' }));
    expect(nowhere.status).toBe(404);
    expect(nowhere.headers['content-type']).toBe('application/problem+json');
  });
});
