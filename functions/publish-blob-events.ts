// The event pipe's enrichment: DynamoDB stream records of the event log become the blob
// events themselves, which the pipe puts on the bus (detail-type = the event's type).
import type { DynamoDBRecord } from 'aws-lambda';
import type { BlobEvent } from '../shared/blob/events.ts';
import { validate as blobEvent } from '../shared/generated/inputs/blobEvent.js';
import { logger } from '../shared/logger.ts';
import { eventHandler } from '../shared/lambda/event-handler.ts';
import { dynamoDBItem, validated } from '../shared/lambda/parse.ts';

/** A new item of the log, unmarshalled and parsed as the event it must be. */
const StoredEvent = dynamoDBItem(validated(blobEvent));

function toBlobEvent(record: DynamoDBRecord): BlobEvent[] {
  const image = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || !image) return [];
  const parsed = StoredEvent.safeParse(image);
  if (!parsed.success) {
    // Published, it would break every consumer that trusts the schemas; logged, it can be repaired.
    const key = record.dynamodb?.Keys;
    logger.error('an item of the log is not a blob event its schema describes; not published', {
      blob_id: key?.blob_id?.S,
      version: key?.version?.N,
      issues: parsed.error.issues,
    });
    return [];
  }
  return [parsed.data];
}

async function publishBlobEvents(records: DynamoDBRecord[]): Promise<BlobEvent[]> {
  return records.flatMap(toBlobEvent);
}

export const handler = eventHandler(publishBlobEvents);
