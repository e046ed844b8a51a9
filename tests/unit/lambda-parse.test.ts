// The shapes Lambda hands a function (shared/lambda/parse.ts, with the generated validators), on
// the samples of events/samples: what the functions get on the happy path, and what each says
// about input that is not it.
import type { DynamoDBRecord, SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { BlobEvent } from '../../shared/blob/events.ts';
import { validate as blobEvent } from '../../shared/generated/inputs/blobEvent.js';
import { dynamoDBItem, eventBridgeEvent, jsonString, ParseError, validated } from '../../shared/lambda/parse.ts';
import { sample } from '../support/lambda.ts';

describe('jsonString(eventBridgeEvent(validated(blobEvent))): a projection queue message', () => {
  const QueuedBlobEvent = jsonString(eventBridgeEvent(validated(blobEvent)));
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

  it('says where and what, for each thing wrong, in its issues and its message', () => {
    const envelope = JSON.parse(bodies[0]!) as { detail: Record<string, unknown> } & Record<string, unknown>;
    const { occurred_at: _at, ...detail } = envelope.detail;
    const badEnvelope = QueuedBlobEvent.safeParse(JSON.stringify({ ...envelope, account: 7, time: 'yesterday' }));
    expect(badEnvelope.error).toBeInstanceOf(ParseError);
    expect(badEnvelope.error?.issues).toEqual([
      { path: ['account'], message: 'must be string' },
      { path: ['time'], message: 'must be: RFC 3339 date-time in UTC (Z)' },
    ]);
    const parsed = QueuedBlobEvent.safeParse(JSON.stringify({ ...envelope, detail: { ...detail, tenant: 'acme', schema_version: 99, version: 0 } }));
    expect(parsed.error?.issues).toEqual(
      expect.arrayContaining([
        { path: ['detail', 'occurred_at'], message: 'required' },
        { path: ['detail'], message: 'unrecognized key "tenant"' },
        { path: ['detail', 'version'], message: 'must be >= 2' },
        expect.objectContaining({ path: ['detail', 'schema_version'] }),
      ]),
    );
    expect(parsed.error?.message).toMatch(/detail\.occurred_at: required; .*detail: unrecognized key "tenant"/);
    const unknownType = QueuedBlobEvent.safeParse(JSON.stringify({ ...envelope, detail: { ...envelope.detail, type: 'BlobPainted' } }));
    expect(unknownType.error?.issues).toEqual([{ path: ['detail', 'type'], message: '"BlobPainted" is none of the types this input may be' }]);
  });

  it('says which field an older schema_version does not have', () => {
    const labeled = bodies.map((body) => JSON.parse(body) as { detail: { type: string; data: Record<string, unknown> } }).find((e) => e.detail.type === 'BlobLabeled');
    expect(labeled).toBeDefined();
    const v1 = { ...labeled!, detail: { ...labeled!.detail, schema_version: 1, data: { ...labeled!.detail.data, callback_url: 'https://example.com/hook' } } };
    expect(QueuedBlobEvent.safeParse(JSON.stringify(v1)).error?.issues).toEqual([
      { path: ['detail', 'data', 'callback_url'], message: 'not allowed: a field this schema_version does not have' },
    ]);
  });
});

describe('dynamoDBItem(validated(blobEvent)): a new item of the event log, from its stream', () => {
  const StoredEvent = dynamoDBItem(validated(blobEvent));
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
