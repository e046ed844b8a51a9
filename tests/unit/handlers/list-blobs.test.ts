// ListBlobsFunction, its Middy chain and all (the contract's validator coerces `limit`), on
// requests as API Gateway hands them over. The read model's query, DynamoDB's (run for real
// end to end), is a fake at its module seam: it records the query it is asked and answers a
// page, so what is checked is the function's part: whose rows, which filters, the cursor, the links.
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/list-blobs.ts';
import type { BlobQuery, BlobRow } from '../../../shared/read-model/index.ts';
import { httpRequest, lambdaContext } from '../../support/lambda.ts';

const fakes = vi.hoisted(() => ({
  queries: [] as unknown[],
  page: { rows: [] as unknown[], lastKey: undefined as Record<string, unknown> | undefined },
}));
vi.mock(import('../../../shared/read-model/index.ts'), async (original) => {
  const projection = {
    page: async (query: unknown) => {
      fakes.queries.push(query);
      return { rows: fakes.page.rows, ...(fakes.page.lastKey && { lastKey: fakes.page.lastKey }) };
    },
  };
  return { ...(await original()), blobProjection: () => projection as unknown as import('../../../shared/read-model/index.ts').BlobProjection };
});

async function list(owner: string, query?: Record<string, string>) {
  const response = (await handler(httpRequest('GET', '/blobs', { owner, ...(query && { query }) }) as never, lambdaContext('ListBlobsFunction'))) as APIGatewayProxyStructuredResultV2;
  return { status: response.statusCode, body: JSON.parse(String(response.body)) as Record<string, unknown> & { _links: Record<string, string> } };
}

const row = (blobId: string) => ({ blob_id: blobId, blob: { blob_id: blobId, invocation_status: 'COMPLETED' } }) as unknown as BlobRow;
/** Where a page of alice's COMPLETED blobs left off, as the ByStatus index keys it. */
const aliceCompletedKey = { pk: 'BLOB#01M87ARFEB9P1S7007NF10H0R4', sk: 'BLOB', status_pk: 'OWNER#alice#STATUS#COMPLETED', blob_id: '01M87ARFEB9P1S7007NF10H0R4' };

beforeAll(() => {
  Object.assign(process.env, { EVENTS_TABLE: 'events', READ_MODEL_TABLE: 'read-model', UPLOAD_BUCKET: 'uploads', AUTH_MODE: 'ApiKey' });
});
beforeEach(() => {
  fakes.queries = [];
  fakes.page = { rows: [], lastKey: undefined };
});

describe('ListBlobsFunction', () => {
  it("asks for the caller's blobs only, 20 by default, and links each", async () => {
    fakes.page.rows = [row('01M87ARFEB9P1S7007NF10H0R4')];
    const { status, body } = await list('alice');
    expect(status).toBe(200);
    expect(fakes.queries).toEqual([{ owner: 'alice', limit: 20 } satisfies BlobQuery]);
    expect(body.items).toEqual([{ blob_id: '01M87ARFEB9P1S7007NF10H0R4', invocation_status: 'COMPLETED', _links: { status: 'https://api.example.com/blobs/01M87ARFEB9P1S7007NF10H0R4' } }]);
    expect(body._links).toEqual({ self: 'https://api.example.com/blobs' });
    expect(body.next_cursor).toBeUndefined();
  });

  it('passes the filters and the limit (a number, as the contract coerces it), and hands out a cursor that leads on', async () => {
    fakes.page.lastKey = aliceCompletedKey;
    const first = await list('alice', { status: 'COMPLETED', limit: '2' });
    expect(fakes.queries[0]).toEqual({ owner: 'alice', status: 'COMPLETED', limit: 2 });
    const cursor = String(first.body.next_cursor);
    expect(first.body._links.next).toBe(`https://api.example.com/blobs?status=COMPLETED&limit=2&cursor=${cursor}`);

    await list('alice', { status: 'COMPLETED', limit: '2', cursor });
    expect(fakes.queries[1]).toEqual({ owner: 'alice', status: 'COMPLETED', limit: 2, startKey: aliceCompletedKey });
  });

  it("refuses another owner's cursor instead of following it into their partition", async () => {
    fakes.page.lastKey = aliceCompletedKey;
    const cursor = String((await list('alice', { status: 'COMPLETED' })).body.next_cursor);
    const { status, body } = await list('bob', { status: 'COMPLETED', cursor });
    expect(status).toBe(400);
    expect(body.errors).toEqual([{ parameter: 'cursor', detail: 'cursor is not one this API handed out' }]);
    expect(fakes.queries).toHaveLength(1);
  });

  it('refuses a cursor used with other filters, a made-up cursor and a limit out of range, naming the parameter', async () => {
    fakes.page.lastKey = aliceCompletedKey;
    const cursor = String((await list('alice', { status: 'COMPLETED' })).body.next_cursor);
    const otherFilters = await list('alice', { status: 'FAILED', cursor });
    expect(otherFilters.status).toBe(400);
    expect(otherFilters.body.errors).toEqual([expect.objectContaining({ parameter: 'cursor' })]);
    expect((await list('alice', { cursor: 'bm90LWEtY3Vyc29y' })).status).toBe(400);
    const tooMany = await list('alice', { limit: '1000' });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors).toEqual([expect.objectContaining({ parameter: 'limit' })]);
    expect(fakes.queries).toHaveLength(1);
  });
});
