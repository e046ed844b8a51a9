// Every blob event -> the blob's read-model rows. The rows are the fold of the whole log,
// so a duplicate or out-of-order delivery writes the same rows (or nothing newer is lost).
import type { EventBridgeEvent } from 'aws-lambda';
import type { BlobEvent } from '../shared/blob/events.ts';
import { foldBlob } from '../shared/blob/state.ts';
import { eventStore } from '../shared/event-store/index.ts';
import { logger } from '../shared/logger.ts';
import { blobProjection } from '../shared/read-model/index.ts';
import { eventHandler } from '../shared/lambda/event-handler.ts';

async function projectBlob(event: EventBridgeEvent<BlobEvent['type'], BlobEvent>): Promise<void> {
  logger.appendKeys({ blob_id: event.detail.blob_id });
  // A blob's first event is its whole log at version 1, so there is nothing to read back; if the
  // log has moved on, the write below finds a newer row and leaves it.
  const events = event.detail.version === 1 ? [event.detail] : await eventStore().read(event.detail.blob_id);
  const state = foldBlob(events);
  if (!state) {
    logger.warn('no blob for this event; nothing to project', { type: event.detail.type });
    return;
  }
  const outcome = await blobProjection().project(state);
  logger.info('projected', { outcome, version: state.version, type: event.detail.type });
}

export const handler = eventHandler(projectBlob);
