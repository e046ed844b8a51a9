// The shapes Lambda hands a function (shared/lambda/parse.ts), on the samples of events/samples:
// what the functions get on the happy path, and what each says about input that is not it.
import type { DynamoDBRecord, SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { BlobEvent } from '../../shared/blob/events.ts';
import { dynamoDBItem, eventBridgeEvent, jsonString } from '../../shared/lambda/parse.ts';
import { sample } from '../support/lambda.ts';

describe('jsonString(eventBridgeEvent(BlobEvent)): a projection queue message', () => {
  const QueuedBlobEvent = jsonString(eventBridgeEvent(BlobEvent));
  const bodies = sample<SQSEvent>('project-blob.sqs-batch.json').Records.map((record) => record.body);

  it('gives the blob event a rule queued', () => {
    for (const body of bodies) {
      const parsed = QueuedBlobEvent.parse(body);
      expect(parsed.detail).toEqual(BlobEvent.parse((JSON.parse(body) as { detail: unknown }).detail));
      expect(parsed['detail-type']).toBe(parsed.detail.type);
    }
  });

  it('says a body that is not JSON is not JSON', () => {
    const parsed = QueuedBlobEvent.safeParse('{"detail": ');
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.message)).toEqual(['not a JSON document']);
  });

  it('refuses an envelope without its fields, or a detail that is no blob event', () => {
    const envelope = JSON.parse(bodies[0]!) as Record<string, unknown>;
    const { time: _time, ...withoutTime } = envelope;
    expect(QueuedBlobEvent.safeParse(JSON.stringify(withoutTime)).error?.issues[0]?.path).toEqual(['time']);
    const wrongDetail = { ...envelope, detail: { type: 'BlobCreated' } };
    expect(QueuedBlobEvent.safeParse(JSON.stringify(wrongDetail)).success).toBe(false);
  });
});

describe('dynamoDBItem(BlobEvent): a new item of the event log, from its stream', () => {
  const StoredEvent = dynamoDBItem(BlobEvent);
  // A pipe hands its enrichment the stream's records as an array.
  const images = sample<DynamoDBRecord[]>('publish-blob-events.stream-records.json')
    .map((record) => record.dynamodb?.NewImage)
    .filter((image) => image !== undefined);

  it('unmarshals the wire form into the event (numbers as numbers, maps as objects)', () => {
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) {
      const event = StoredEvent.parse(image);
      expect(event.blob_id).toBe(image.blob_id?.S);
      expect(event.version).toBe(Number(image.version?.N));
    }
  });

  it('refuses an item that is not in the wire form, and one that is no blob event', () => {
    expect(StoredEvent.safeParse({ blob_id: { X: 'nonsense' } }).error?.issues[0]?.message).toBe('not a DynamoDB item in its wire form');
    expect(StoredEvent.safeParse({ blob_id: 'plain' }).success).toBe(false);
    expect(StoredEvent.safeParse({ blob_id: { S: '01M87ARFEB9P1S7007NF10H0R4' } }).success).toBe(false);
  });
});
