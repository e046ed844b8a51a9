// GET /blobs/{blob_id}/events: the blob's event log, oldest first: its audit trail.
import { eventStore } from '../shared/event-store/index.ts';
import { httpHandler, type HttpEvent } from '../shared/http/handler.ts';
import { HttpProblem } from '../shared/http/problem.ts';
import { json } from '../shared/http/responses.ts';
import { logger } from '../shared/logger.ts';

async function getBlobEvents(event: HttpEvent<'getBlobEvents'>) {
  const blobId = event.pathParameters.blob_id;
  logger.appendKeys({ blob_id: blobId });
  const events = await eventStore().read(blobId);
  if (events.length === 0) throw new HttpProblem(404, `There is no blob ${blobId}.`);
  return json(200, {
    blob_id: blobId,
    events: events.map(({ type, version, schema_version, occurred_at, data }) => ({ type, version, schema_version, occurred_at, data })),
  });
}

export const handler = httpHandler('getBlobEvents', getBlobEvents);
