// The original API's workflow, through the real HTTP API of the local stack: create a blob,
// upload a real photo to the presigned URL, poll until it is labeled.
import { readFileSync } from 'node:fs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobEvent } from '../../shared/blob/events.ts';
import type { Usage } from '../../local/usage.ts';
import { eventually, localCredentials, startStackProcess, waitForStatus, type StackProcess } from '../support/stack-process.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

let stack: StackProcess;
beforeAll(async () => {
  stack = await startStackProcess();
});
afterAll(async () => {
  await stack?.stop();
});

async function createBlob(body?: { callback_url?: string }) {
  const { data, response } = await stack.api.POST('/blobs', body ? { body } : {});
  expect(response.status).toBe(201);
  return { blob: data!, location: response.headers.get('location') };
}

async function upload(url: string, bytes: Buffer, contentType: string) {
  return fetch(url, { method: 'PUT', body: bytes, headers: { 'content-type': contentType } });
}

async function eventLog(blobId: string): Promise<BlobEvent[]> {
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack.endpoints.dynamodb, region: 'us-east-1', credentials: localCredentials }),
  );
  const { Items } = await client.send(
    new QueryCommand({
      TableName: 'image-labeling-BlobEventsTable',
      KeyConditionExpression: 'blob_id = :id',
      ExpressionAttributeValues: { ':id': blobId },
    }),
  );
  return (Items ?? []) as BlobEvent[];
}

async function detectLabelsCalls(): Promise<number> {
  const stats = (await (await fetch(`${stack.endpoints.rekognition}/_local/stats`)).json()) as { detectLabelsCalls: number };
  return stats.detectLabelsCalls;
}

describe('the blob workflow', () => {
  // First in the file, so that no earlier test's leftovers (projections, redeliveries) are counted.
  it('counts what one labeled image asked of AWS, for the bench to price', async () => {
    await fetch(stack.endpoints.usage, { method: 'DELETE' });
    const { blob } = await createBlob();
    expect((await upload(blob.upload_url!, fixture('horse.png'), 'image/png')).status).toBe(200);
    expect((await waitForStatus(stack, blob.blob_id, ['COMPLETED', 'FAILED'])).invocation_status).toBe('COMPLETED');

    const readUsage = async () => (await (await fetch(stack.endpoints.usage)).json()) as Usage;
    // The projector runs after BlobLabeled reached the bus: wait for its third event's row.
    const usage = await eventually(async () => {
      const counted = await readUsage();
      return counted.pipes.requests >= 3 && (counted.lambda.ProjectBlobFunction?.invocations ?? 0) >= 1 && counted;
    });
    const invocations = (id: string) => usage.lambda[id]?.invocations ?? 0;
    expect([invocations('CreateBlobFunction'), invocations('RecordUploadFunction'), invocations('LabelBlobFunction')]).toEqual([1, 1, 1]);
    expect(invocations('PublishBlobEventsFunction')).toBe(3); // BlobCreated, BlobUploaded, BlobLabeled
    expect(invocations('SendCallbackFunction')).toBe(0); // no callback_url: the rule never matches
    // AuthMode None's authorizer answers once; its verdict is cached for every later request.
    expect(invocations('AuthorizeAnyoneFunction')).toBe(1);
    expect(usage.lambda.LabelBlobFunction).toMatchObject({ memorySizeMb: 512, architecture: 'arm64' });
    expect(usage.eventBridge).toEqual({ customEvents: 3, awsServiceEvents: 1 });
    expect(usage.s3).toMatchObject({ putClass: 1, deletes: 1 }); // the upload; the labeler's clean-up
    expect(usage.s3.getClass).toBeGreaterThanOrEqual(1); // the labeler reads the image
    // Three log appends of a small item, then read-model rows in the table and its indexes.
    expect(usage.dynamodb.writeUnits).toBeGreaterThanOrEqual(3 + 3);
    expect(usage.dynamodb.readUnits).toBeGreaterThan(0);
    expect(usage.sqs.requests).toBeGreaterThanOrEqual(3 + 2); // three rule deliveries, one receive and delete
  });

  it("keeps the counters off the API's port: its clients can neither read nor reset them", async () => {
    expect(new URL(stack.endpoints.usage).hostname).toBe('127.0.0.1');
    for (const method of ['GET', 'DELETE']) {
      const answer = await fetch(`${stack.apiUrl}/_local/usage`, { method });
      expect(answer.status, method).toBe(404);
      expect(answer.headers.get('content-type')).toBe('application/problem+json');
    }
    expect((await fetch(stack.endpoints.usage)).status).toBe(200);
  });

  it('creates a blob that is waiting for its upload, and reads it back at once', async () => {
    const { blob, location } = await createBlob();
    expect(blob.blob_id).toMatch(ULID);
    expect(blob.invocation_status).toBe('ACTION_REQUIRED');
    expect(Date.parse(blob.requested_on)).toBeGreaterThan(Date.now() - 60_000);
    expect(blob.upload_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/.+X-Amz-Signature=/);
    expect(blob._links.status).toBe(`${stack.apiUrl}/blobs/${blob.blob_id}`);
    expect(location).toBe(blob._links.status);
    expect(blob.callback_url).toBeUndefined();

    const { data, response } = await stack.api.GET('/blobs/{blob_id}', { params: { path: { blob_id: blob.blob_id } } });
    expect(response.status).toBe(200);
    expect(data).toMatchObject({ blob_id: blob.blob_id, invocation_status: 'ACTION_REQUIRED', requested_on: blob.requested_on });
  });

  it('keeps the callback_url it was given', async () => {
    const { blob } = await createBlob({ callback_url: 'https://example.com/hooks/labels' });
    expect(blob.callback_url).toBe('https://example.com/hooks/labels');
  });

  it.each([
    ['chelsea.png', 'image/png', 'Cat'],
    ['people.jpg', 'image/jpeg', 'Person'],
    ['horse.png', 'image/png', 'Horse'],
  ])('labels %s with %s', async (file, contentType, expected) => {
    const { blob } = await createBlob();
    const put = await upload(blob.upload_url!, fixture(file), contentType);
    expect(put.status).toBe(200);

    const done = await waitForStatus(stack, blob.blob_id, ['COMPLETED', 'FAILED']);
    expect(done.failure).toBeUndefined();
    expect(done.invocation_status).toBe('COMPLETED');
    expect(done.labels).toContain(expected);
    expect(done.upload_url).toBeUndefined();
    expect(Date.parse(done.started_on!)).toBeGreaterThanOrEqual(Date.parse(done.requested_on));
    expect(Date.parse(done.completed_on!)).toBeGreaterThanOrEqual(Date.parse(done.started_on!));

    // The state shown is the fold of exactly these events.
    const events = await eventLog(blob.blob_id);
    expect(events.map((e) => [e.type, e.version])).toEqual([
      ['BlobCreated', 1],
      ['BlobUploaded', 2],
      ['BlobLabeled', 3],
    ]);
    const labeled = events[2]!;
    expect(labeled.type === 'BlobLabeled' && labeled.data.labels.map((l) => l.name)).toEqual(done.labels);
  });

  it('lists labels most confident first', async () => {
    const { blob } = await createBlob();
    await upload(blob.upload_url!, fixture('people.jpg'), 'image/jpeg');
    await waitForStatus(stack, blob.blob_id, ['COMPLETED']);
    const labeled = (await eventLog(blob.blob_id)).find((e) => e.type === 'BlobLabeled');
    const confidences = labeled?.type === 'BlobLabeled' ? labeled.data.labels.map((l) => l.confidence) : [];
    expect(confidences.length).toBeGreaterThan(0);
    expect(confidences).toEqual([...confidences].sort((a, b) => b - a));
  });

  it('ends FAILED with INVALID_IMAGE_FORMAT for a file that is not an image, and for a truncated PNG', async () => {
    const text = await createBlob();
    await upload(text.blob.upload_url!, Buffer.from('just some text, not a picture\n'), 'image/png');
    const truncated = await createBlob();
    const png = fixture('horse.png');
    await upload(truncated.blob.upload_url!, png.subarray(0, Math.floor(png.length / 2)), 'image/png');

    for (const { blob } of [text, truncated]) {
      const done = await waitForStatus(stack, blob.blob_id, ['COMPLETED', 'FAILED']);
      expect(done.invocation_status).toBe('FAILED');
      expect(done.failure?.code).toBe('INVALID_IMAGE_FORMAT');
      expect(done.failure?.message).toBeTruthy();
      expect(done.labels).toBeUndefined();
    }
  });

  it('ignores a duplicate delivery of BlobUploaded: no second detection, no second event', async () => {
    const { blob } = await createBlob();
    await upload(blob.upload_url!, fixture('horse.png'), 'image/png');
    await waitForStatus(stack, blob.blob_id, ['COMPLETED']);
    const events = await eventLog(blob.blob_id);
    const uploaded = events.find((e) => e.type === 'BlobUploaded')!;
    const callsBefore = await detectLabelsCalls();

    const eventBridge = new EventBridgeClient({ endpoint: stack.endpoints.eventbridge, region: 'us-east-1', credentials: localCredentials });
    const put = await eventBridge.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: 'image-labeling-blobs',
            Source: 'image-labeling.blobs',
            DetailType: 'BlobUploaded',
            Detail: JSON.stringify(uploaded),
          },
        ],
      }),
    );
    expect(put.FailedEntryCount).toBe(0);

    // The labeler says so when it sees the duplicate; wait for that line, then check nothing happened.
    await eventually(async () =>
      stack.logs().some((line) => line.blob_id === blob.blob_id && String(line.message).includes('duplicate delivery ignored')),
    );
    expect(await detectLabelsCalls()).toBe(callsBefore);
    expect(await eventLog(blob.blob_id)).toHaveLength(events.length);
  });

  it('ignores a second upload after labeling: the status does not rewind', async () => {
    const { blob } = await createBlob();
    await upload(blob.upload_url!, fixture('horse.png'), 'image/png');
    const first = await waitForStatus(stack, blob.blob_id, ['COMPLETED']);
    const again = await upload(blob.upload_url!, fixture('chelsea.png'), 'image/png');
    expect(again.status).toBe(200); // S3 takes the bytes; the blob's history does not change
    await eventually(async () => stack.logs().some((line) => line.blob_id === blob.blob_id && line.message === 'upload ignored'));
    const { data } = await stack.api.GET('/blobs/{blob_id}', { params: { path: { blob_id: blob.blob_id } } });
    expect(data).toEqual(first);
  });

  it('logs structured JSON lines that carry the blob id', async () => {
    const { blob } = await createBlob();
    const line = stack.logs().find((l) => l.blob_id === blob.blob_id && l.message === 'blob created');
    expect(line).toMatchObject({ level: 'INFO', service: 'image-labeling' });
  });
});
