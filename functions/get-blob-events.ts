// GET /blobs/{blob_id}/events: the blob's event log, oldest first: its audit trail.
import { foldBlob } from '../shared/blob/state.ts';
import { eventStore } from '../shared/event-store/index.ts';
import { callerOf } from '../shared/http/caller.ts';
import { request as getBlobEventsRequest } from '../shared/generated/operations/getBlobEvents.js';
import { httpHandler, type HttpEvent } from '../shared/http/handler.ts';
import { noSuchBlob } from '../shared/http/problem.ts';
import { json } from '../shared/http/responses.ts';
import { logger } from '../shared/logger.ts';

async function getBlobEvents(event: HttpEvent<'getBlobEvents'>) {
  const blobId = event.pathParameters.blob_id;
  logger.appendKeys({ blob_id: blobId });
  const events = await eventStore().read(blobId);
  // Another owner's log does not exist for this caller: the same answer as an unknown id.
  if (foldBlob(events)?.owner !== callerOf(event).owner) throw noSuchBlob(blobId);
  return json(200, {
    blob_id: blobId,
    events: events.map(({ type, version, schema_version, occurred_at, data }) => ({ type, version, schema_version, occurred_at, data })),
  });
}

export const handler = httpHandler(getBlobEventsRequest, getBlobEvents);
