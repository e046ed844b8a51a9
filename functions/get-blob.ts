// GET /blobs/{blob_id}: the blob's state, folded from its event log.
import { foldBlob } from '../shared/blob/state.ts';
import { toBlobResource } from '../shared/blob/representation.ts';
import { eventStore } from '../shared/event-store/index.ts';
import { callerOf } from '../shared/http/caller.ts';
import { request as getBlobRequest } from '../shared/generated/operations/getBlob.js';
import { httpHandler, type HttpEvent } from '../shared/http/handler.ts';
import { noSuchBlob } from '../shared/http/problem.ts';
import { json } from '../shared/http/responses.ts';
import { absoluteUrl } from '../shared/http/urls.ts';
import { logger } from '../shared/logger.ts';
import { presignUpload } from '../shared/storage/uploads.ts';

async function getBlob(event: HttpEvent<'getBlob'>) {
  const blobId = event.pathParameters.blob_id;
  logger.appendKeys({ blob_id: blobId });
  const state = foldBlob(await eventStore().read(blobId));
  // Another owner's blob does not exist for this caller: same answer, and no upload URL.
  if (!state || state.owner !== callerOf(event).owner) throw noSuchBlob(blobId);

  const upload =
    state.invocation_status === 'ACTION_REQUIRED' ? await presignUpload(state.upload, new Date()) : undefined;
  const self = absoluteUrl(event, `/blobs/${blobId}`);
  return json(200, toBlobResource(state, { self, upload }), { 'cache-control': 'no-store' });
}

export const handler = httpHandler(getBlobRequest, getBlob);
