// SendCallbackFunction, its Middy chain and all, on what the callback queue delivers: its
// sample (a BlobLabeled as the bus queued it) in an SQS batch. The log is the in-memory event
// store; the client's receiver is a server on 127.0.0.1, which the allow-list opens as a
// deployment's CallbackAllowedHosts would; SQS is a receiver on 127.0.0.1 that answers the two
// calls the sender makes (ChangeMessageVisibility, SendMessage) as SQS does, through the real
// SDK client.
import type { EventBridgeEvent, SQSBatchResponse } from 'aws-lambda';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/send-callback.ts';
import { BlobEvent } from '../../../shared/blob/events.ts';
import { InMemoryEventStore } from '../../../shared/event-store/in-memory-event-store.ts';
import { lambdaContext, sample, sqsBatch } from '../../support/lambda.ts';
import { startFakeSqs, type FakeSqs } from '../../support/fake-sqs.ts';
import { startReceiver, type Receiver } from '../../support/receiver.ts';

const memory = vi.hoisted(() => ({ store: undefined as unknown as InMemoryEventStore }));
vi.mock(import('../../../shared/event-store/index.ts'), async (original) => ({ ...(await original()), eventStore: () => memory.store }));

const secret = 'whsec_Y2FsbGJhY2stdGVzdC1zZWNyZXQtY2FsbGJhY2stdGVzdA==';
const context = lambdaContext('SendCallbackFunction');
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/image-labeling-CallbackQueue';
const DEAD_LETTER_QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/image-labeling-SendCallbackFailuresQueue';
type Delivered = EventBridgeEvent<'BlobLabeled', BlobEvent>;

let receiver: Receiver;
let sqs: FakeSqs;
let callbackUrl: string;

/**
 * The samples' story (created, uploaded, labeled), with the callback_url at our receiver and
 * the blob labeled `endedSecondsAgo` ago (the retry window counts from there).
 */
function story(url: string, endedSecondsAgo = 1) {
  const detail = (file: string) => BlobEvent.parse(sample<{ detail: unknown }>(file).detail);
  const withUrl = <E extends BlobEvent>(event: E): E =>
    'callback_url' in event.data ? ({ ...event, data: { ...event.data, callback_url: url } } as E) : event;
  const log = ['blob-created.json', 'label-blob.blob-uploaded.json', 'send-callback.blob-labeled.json'].map(detail).map(withUrl);
  log[2] = { ...log[2]!, occurred_at: new Date(Date.now() - endedSecondsAgo * 1000).toISOString() };
  const delivered = sample<Delivered>('send-callback.blob-labeled.json');
  delivered.detail = log[2];
  return { log, delivered };
}

const send = (bodies: unknown[], receiveCount = 1, sentAt?: Date) =>
  handler(sqsBatch(bodies, { receiveCount, queue: 'image-labeling-CallbackQueue', ...(sentAt && { sentAt }) }), context) as Promise<SQSBatchResponse>;

beforeAll(async () => {
  receiver = await startReceiver();
  sqs = await startFakeSqs();
  callbackUrl = `${receiver.url}/hooks/labels`;
  Object.assign(process.env, {
    EVENTS_TABLE: 'events',
    READ_MODEL_TABLE: 'read-model',
    UPLOAD_BUCKET: 'uploads',
    CALLBACK_SIGNING_SECRET: secret,
    CALLBACK_ALLOWED_HOSTS: '127.0.0.1/32',
    CALLBACK_QUEUE_URL: QUEUE_URL,
    CALLBACK_DEAD_LETTER_QUEUE_URL: DEAD_LETTER_QUEUE_URL,
    AWS_ENDPOINT_URL_SQS: sqs.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
});
afterAll(async () => {
  await receiver.close();
  await sqs.close();
});
beforeEach(() => {
  receiver.requests.length = 0;
  receiver.answers.length = 0;
  sqs.requests.length = 0;
  delete process.env.CALLBACK_RETRY_WINDOW_SECONDS;
  delete process.env.CALLBACK_FIRST_RETRY_SECONDS;
});

describe('SendCallbackFunction', () => {
  it("POSTs the finished blob to its callback_url, signed with the deployment's secret", async () => {
    const { log, delivered } = story(callbackUrl);
    memory.store = new InMemoryEventStore(log);
    expect((await send([delivered])).batchItemFailures).toEqual([]);
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/hooks/labels' });
    const payload = new Webhook(secret).verify(request!.body, request!.headers as Record<string, string>) as { type: string; timestamp: string; data: Record<string, unknown> };
    expect(payload.type).toBe('blob.completed');
    expect(payload.timestamp).toBe(delivered.detail.occurred_at);
    const labels = (log[2]!.data as { labels: { name: string }[] }).labels;
    expect(payload.data).toMatchObject({ blob_id: delivered.detail.blob_id, invocation_status: 'COMPLETED', labels: labels.map((label) => label.name), label_details: labels });
    // One id per event: a receiver that sees it twice knows it is a redelivery.
    expect(request!.headers['webhook-id']).toBe(`${delivered.detail.blob_id}.3`);
    expect(sqs.requests).toEqual([]);
  });

  it('says what the blob was as of the event, not what happened after', async () => {
    const { log, delivered } = story(callbackUrl);
    // The same event delivered again after the log moved on (a version 4 no blob has today).
    const later = { ...log[2]!, version: 4, occurred_at: new Date().toISOString() } as BlobEvent;
    memory.store = new InMemoryEventStore([...log, later]);
    await send([delivered]);
    const payload = JSON.parse(receiver.requests[0]!.body) as { data: { completed_on: string } };
    expect(payload.data.completed_on).toBe(log[2]!.occurred_at);
  });

  it('puts a callback the receiver could not take back in the queue for 15-30 s, and sends it again with the same webhook-id', async () => {
    const { log, delivered } = story(callbackUrl);
    memory.store = new InMemoryEventStore(log);
    receiver.answers.push(503);
    expect((await send([delivered])).batchItemFailures).toEqual([{ itemIdentifier: 'message-1' }]);
    const [visibility] = sqs.calls();
    expect(visibility).toMatchObject({ operation: 'AmazonSQS.ChangeMessageVisibility', QueueUrl: QUEUE_URL, ReceiptHandle: 'receipt-1' });
    expect(visibility!.VisibilityTimeout).toBeGreaterThanOrEqual(15);
    expect(visibility!.VisibilityTimeout).toBeLessThanOrEqual(30);

    expect((await send([delivered], 2)).batchItemFailures).toEqual([]);
    expect(receiver.requests.map((request) => request.headers['webhook-id'])).toEqual([`${delivered.detail.blob_id}.3`, `${delivered.detail.blob_id}.3`]);
    expect(sqs.requests).toHaveLength(1);
  });

  it('waits longer with each receive, and at least what a Retry-After asks for', async () => {
    const { log, delivered } = story(callbackUrl);
    memory.store = new InMemoryEventStore(log);
    receiver.answers.push(500);
    await send([delivered], 5); // ceiling 30 s * 2^4 = 8 min
    // An overloaded receiver asks for ten minutes.
    const slow = await startReceiver(() => ({ status: 429, headers: { 'retry-after': '600' } }));
    try {
      memory.store = new InMemoryEventStore(story(`${slow.url}/hooks`).log);
      await send([delivered]);
    } finally {
      await slow.close();
    }
    const [fifth, asked] = sqs.calls();
    expect(fifth!.VisibilityTimeout).toBeGreaterThanOrEqual(240);
    expect(fifth!.VisibilityTimeout).toBeLessThanOrEqual(480);
    expect(asked!.VisibilityTimeout).toBe(600);
  });

  it('keeps a callback in the dead-letter queue once its retry window is used up, with why', async () => {
    const { log, delivered } = story(callbackUrl, 86_400 - 10); // a day from the blob's end, less 10 s
    memory.store = new InMemoryEventStore(log);
    receiver.answers.push(503);
    expect((await send([delivered], 21)).batchItemFailures).toEqual([]); // deleted from the queue: it is in the other one
    expect(receiver.requests).toHaveLength(1);
    const [kept] = sqs.calls();
    expect(kept).toMatchObject({
      operation: 'AmazonSQS.SendMessage',
      QueueUrl: DEAD_LETTER_QUEUE_URL,
      MessageAttributes: {
        ERROR_CODE: { DataType: 'String', StringValue: 'RetryWindowUsedUp' },
        ERROR_MESSAGE: { DataType: 'String', StringValue: expect.stringContaining('answered 503') },
        RECEIVE_COUNT: { DataType: 'String', StringValue: '21' },
      },
    });
    // The event as it was queued: a redrive hands it back to the sender unchanged.
    expect(JSON.parse(kept!.MessageBody!)).toEqual(delivered);
  });

  it('gives a redriven callback a retry window of its own, from when the redrive sent it', async () => {
    // Two days after the blob's end the receiver is fixed, and the dead-letter queue redriven:
    // SQS sends each message anew (a new SentTimestamp, ApproximateReceiveCount 1).
    const { log, delivered } = story(callbackUrl, 2 * 86_400);
    memory.store = new InMemoryEventStore(log);
    receiver.answers.push(503);
    expect((await send([delivered], 1, new Date(Date.now() - 5_000))).batchItemFailures).toEqual([{ itemIdentifier: 'message-1' }]);
    // Put back for its next attempt, not kept in the dead-letter queue after one try.
    expect(sqs.calls()).toEqual([expect.objectContaining({ operation: 'AmazonSQS.ChangeMessageVisibility', ReceiptHandle: 'receipt-1' })]);
  });

  it('takes the retry window from CallbackRetryWindowSeconds', async () => {
    process.env.CALLBACK_RETRY_WINDOW_SECONDS = '3600';
    const { log, delivered } = story(callbackUrl, 3600 - 10);
    memory.store = new InMemoryEventStore(log);
    receiver.answers.push(503);
    await send([delivered]);
    expect(sqs.calls()).toEqual([expect.objectContaining({ operation: 'AmazonSQS.SendMessage', QueueUrl: DEAD_LETTER_QUEUE_URL })]);
  });

  it('fails only the callbacks of a batch that failed', async () => {
    const { delivered } = story(callbackUrl);
    const otherBlob = '01M87ARFEB9P1S7007NF10H0R5';
    const rename = <E extends BlobEvent>(event: E): E => ({ ...event, blob_id: otherBlob });
    const otherDelivered = { ...delivered, detail: rename(delivered.detail) };
    const flaky = await startReceiver((request) => ({ status: request.path === '/hooks/labels' ? 204 : 502 }));
    try {
      memory.store = new InMemoryEventStore([...story(`${flaky.url}/hooks/labels`).log, ...story(`${flaky.url}/hooks/other`).log.map(rename)]);
      expect((await send([delivered, otherDelivered])).batchItemFailures).toEqual([{ itemIdentifier: 'message-2' }]);
      expect(flaky.requests.map((request) => request.path).sort()).toEqual(['/hooks/labels', '/hooks/other']);
    } finally {
      await flaky.close();
    }
    expect(sqs.calls()).toEqual([expect.objectContaining({ operation: 'AmazonSQS.ChangeMessageVisibility', ReceiptHandle: 'receipt-2' })]);
  });

  it('gives up on a receiver that refuses for good (a 4xx): nothing is left to redeliver', async () => {
    const { log, delivered } = story(callbackUrl);
    memory.store = new InMemoryEventStore(log);
    receiver.answers.push(410);
    expect((await send([delivered])).batchItemFailures).toEqual([]);
    expect(receiver.requests).toHaveLength(1);
    expect(sqs.requests).toEqual([]);
  });

  it('sends nothing to an address the policy refuses, and does not retry it', async () => {
    // 127.0.0.2 is loopback, and only 127.0.0.1 is opened: refused before any connection.
    const { log, delivered } = story(callbackUrl.replace('127.0.0.1', '127.0.0.2'));
    memory.store = new InMemoryEventStore(log);
    expect((await send([delivered])).batchItemFailures).toEqual([]);
    expect(receiver.requests).toEqual([]);
    expect(sqs.requests).toEqual([]);
  });

  it('sends nothing for a blob without a callback_url, or one it does not know', async () => {
    const { log, delivered } = story(callbackUrl);
    const withoutCallback = log.map((event) => {
      if (!('callback_url' in event.data)) return event;
      const { callback_url: _dropped, ...data } = event.data;
      return { ...event, data } as BlobEvent;
    });
    memory.store = new InMemoryEventStore(withoutCallback);
    await send([delivered]);
    memory.store = new InMemoryEventStore();
    await send([delivered]);
    expect(receiver.requests).toEqual([]);
  });

  it('keeps a message that is not a blob event in the dead-letter queue rather than retry it', async () => {
    expect((await send(['not json', { detail: {} }])).batchItemFailures).toEqual([]);
    const calls = sqs.calls();
    expect(calls).toHaveLength(2);
    expect(calls).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ operation: 'AmazonSQS.SendMessage', QueueUrl: DEAD_LETTER_QUEUE_URL, MessageBody: 'not json' }),
        expect.objectContaining({ operation: 'AmazonSQS.SendMessage', QueueUrl: DEAD_LETTER_QUEUE_URL, MessageBody: '{"detail":{}}' }),
      ]),
    );
  });
});
