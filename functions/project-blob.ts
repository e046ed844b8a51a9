// Blob events, in batches from the projection queue -> the blobs' read-model rows. A row is
// the fold of the blob's log up to the newest event the batch has for it, so a blob with
// several events in the batch is written once, and a duplicate or out-of-order delivery
// writes the same row (or finds a newer one and leaves it).
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { BlobEvent } from '../shared/blob/events.ts';
import { foldBlob } from '../shared/blob/state.ts';
import { eventStore } from '../shared/event-store/index.ts';
import { logger } from '../shared/logger.ts';
import { blobProjection } from '../shared/read-model/index.ts';
import { eventHandler } from '../shared/lambda/event-handler.ts';
import { validate as blobEvent } from '../shared/generated/inputs/blobEvent.js';
import { eventBridgeEvent, jsonString, validated } from '../shared/lambda/parse.ts';

async function projectBlobs(event: SQSEvent) {
  const eventOf = new Map(event.Records.map((record) => [record.messageId, blobEventOf(record)]));
  const newest = new Map<string, BlobEvent>();
  for (const blobEvent of eventOf.values()) {
    if (blobEvent && blobEvent.version > (newest.get(blobEvent.blob_id)?.version ?? 0)) newest.set(blobEvent.blob_id, blobEvent);
  }
  const projections = projectNewest([...newest.values()]);
  // Each message succeeds or fails with its blob's projection; failed ones come back later.
  // The processor keeps per-invocation state, so it is made per invocation (functions may run
  // several invocations at once).
  const processor = new BatchProcessor(EventType.SQS);
  return processPartialResponse(
    event,
    (record: SQSRecord) => projections.get(eventOf.get(record.messageId)?.blob_id ?? '') ?? unreadable(record),
    processor,
  );
}

function projectNewest(events: BlobEvent[]): Map<string, Promise<void>> {
  // A blob's first event is its whole log, so only blobs further along need a read.
  const later = events.filter((e) => e.version > 1);
  const logs = later.length > 0 ? eventStore().readThrough(new Map(later.map((e) => [e.blob_id, e.version]))) : Promise.resolve(new Map<string, BlobEvent[]>());
  return new Map(events.map((newest) => [newest.blob_id, projectOne(newest, logs)]));
}

async function projectOne(newest: BlobEvent, logs: Promise<Map<string, BlobEvent[]>>): Promise<void> {
  const log = newest.version === 1 ? [newest] : ((await logs).get(newest.blob_id) ?? (await eventStore().read(newest.blob_id)));
  const state = foldBlob(log);
  if (!state) {
    logger.warn('no blob for this event; nothing to project', { blob_id: newest.blob_id, type: newest.type });
    return;
  }
  const outcome = await blobProjection().project(state);
  logger.info('projected', { blob_id: newest.blob_id, outcome, version: state.version, type: newest.type });
}

/** A message of the queue: a blob event, as the EventBridge rule queued it. */
const QueuedBlobEvent = jsonString(eventBridgeEvent(validated(blobEvent)));

/** The blob event an EventBridge rule queued, or undefined for a message that is not one. */
function blobEventOf(record: SQSRecord): BlobEvent | undefined {
  const parsed = QueuedBlobEvent.safeParse(record.body);
  if (parsed.success) return parsed.data.detail;
  logger.error('not a blob event its schema describes', { messageId: record.messageId, issues: parsed.error.issues });
  return undefined;
}

async function unreadable(record: SQSRecord): Promise<never> {
  throw new Error(`message ${record.messageId} is not an EventBridge blob event`);
}

export const handler = eventHandler(projectBlobs);
