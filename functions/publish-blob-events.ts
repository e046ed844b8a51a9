// The event pipe's enrichment: DynamoDB stream records of the event log become the blob
// events themselves, which the pipe puts on the bus (detail-type = the event's type).
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { isBlobEventType, type BlobEvent } from '../shared/blob/events.ts';
import { logger } from '../shared/logger.ts';
import { eventHandler } from '../shared/lambda/event-handler.ts';

function toBlobEvent(record: DynamoDBRecord): BlobEvent[] {
  const image = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || !image) return [];
  const event = unmarshall(image as Record<string, AttributeValue>) as BlobEvent;
  if (!isBlobEventType(event.type)) {
    logger.error('unknown event type in the log; not published', { type: event.type, blob_id: event.blob_id });
    return [];
  }
  return [event];
}

async function publishBlobEvents(records: DynamoDBRecord[]): Promise<BlobEvent[]> {
  return records.flatMap(toBlobEvent);
}

export const handler = eventHandler(publishBlobEvents);
