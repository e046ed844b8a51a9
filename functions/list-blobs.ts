// GET /blobs?status=&label=&limit=&cursor=: the caller's blobs from the read model, newest first.
import { callerOf } from '../shared/http/caller.ts';
import { decodeCursor, encodeCursor } from '../shared/http/cursor.ts';
import { request as listBlobsRequest } from '../shared/generated/operations/listBlobs.js';
import { httpHandler, type HttpEvent } from '../shared/http/handler.ts';
import { json } from '../shared/http/responses.ts';
import { absoluteUrl } from '../shared/http/urls.ts';
import { HttpProblem } from '../shared/http/problem.ts';
import { blobProjection } from '../shared/read-model/index.ts';
import { isStartKeyOf } from '../shared/read-model/blob-projection.ts';

async function listBlobs(event: HttpEvent<'listBlobs'>) {
  const query = event.queryStringParameters ?? {};
  const { owner } = callerOf(event);
  const filters = { status: query.status ?? null, label: query.label ?? null };
  const startKey = query.cursor ? decodeCursor(query.cursor, filters) : undefined;
  // A cursor is a position in one owner's partition: another owner's is refused, not followed.
  if (startKey && !isStartKeyOf({ owner, ...(query.status && { status: query.status }), ...(query.label && { label: query.label }) }, startKey)) {
    const detail = 'cursor is not one this API handed out';
    throw new HttpProblem(400, `The ${detail}.`, { errors: [{ parameter: 'cursor', detail }] });
  }
  const page = await blobProjection().page({
    owner,
    ...(query.status && { status: query.status }),
    ...(query.label && { label: query.label }),
    limit: query.limit ?? 20,
    ...(startKey && { startKey }),
  });

  const linkTo = (cursor?: string) => {
    const params = new URLSearchParams();
    if (query.status) params.set('status', query.status);
    if (query.label) params.set('label', query.label);
    if (query.limit) params.set('limit', String(query.limit));
    if (cursor) params.set('cursor', cursor);
    const search = params.toString();
    return absoluteUrl(event, `/blobs${search ? `?${search}` : ''}`);
  };
  const nextCursor = page.lastKey && encodeCursor(page.lastKey, filters);
  return json(200, {
    items: page.rows.map((row) => ({ ...row.blob, _links: { status: absoluteUrl(event, `/blobs/${row.blob_id}`) } })),
    ...(nextCursor && { next_cursor: nextCursor }),
    _links: { self: linkTo(query.cursor), ...(nextCursor && { next: linkTo(nextCursor) }) },
  });
}

export const handler = httpHandler(listBlobsRequest, listBlobs);
