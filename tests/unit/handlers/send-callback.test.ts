// SendCallbackFunction, its Middy chain and all, on its sample (a BlobLabeled as the bus
// delivers it). The log is the in-memory event store; the client's receiver is a server on
// 127.0.0.1, which the allow-list opens as a deployment's CallbackAllowedHosts would.
import type { EventBridgeEvent } from 'aws-lambda';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/send-callback.ts';
import { BlobEvent } from '../../../shared/blob/events.ts';
import { InMemoryEventStore } from '../../../shared/event-store/in-memory-event-store.ts';
import { lambdaContext, sample } from '../../support/lambda.ts';
import { startReceiver, type Receiver } from '../../support/receiver.ts';

const memory = vi.hoisted(() => ({ store: undefined as unknown as InMemoryEventStore }));
vi.mock(import('../../../shared/event-store/index.ts'), async (original) => ({ ...(await original()), eventStore: () => memory.store }));

const secret = 'whsec_Y2FsbGJhY2stdGVzdC1zZWNyZXQtY2FsbGJhY2stdGVzdA==';
const context = lambdaContext('SendCallbackFunction');
type Delivered = EventBridgeEvent<'BlobLabeled', BlobEvent>;

let receiver: Receiver;
let callbackUrl: string;

/** The samples' story (created, uploaded, labeled), with the callback_url at our receiver. */
function story(url: string) {
  const detail = (file: string) => BlobEvent.parse(sample<{ detail: unknown }>(file).detail);
  const withUrl = <E extends BlobEvent>(event: E): E =>
    'callback_url' in event.data ? ({ ...event, data: { ...event.data, callback_url: url } } as E) : event;
  const log = ['blob-created.json', 'label-blob.blob-uploaded.json', 'send-callback.blob-labeled.json'].map(detail).map(withUrl);
  const delivered = sample<Delivered>('send-callback.blob-labeled.json');
  delivered.detail = log[2]!;
  return { log, delivered };
}

beforeAll(async () => {
  receiver = await startReceiver();
  callbackUrl = `${receiver.url}/hooks/labels`;
  Object.assign(process.env, {
    EVENTS_TABLE: 'events',
    READ_MODEL_TABLE: 'read-model',
    UPLOAD_BUCKET: 'uploads',
    CALLBACK_SIGNING_SECRET: secret,
    CALLBACK_ALLOWED_HOSTS: '127.0.0.1/32',
  });
});
afterAll(() => receiver.close());
beforeEach(() => {
  receiver.requests.length = 0;
  receiver.answers.length = 0;
});

describe('SendCallbackFunction', () => {
  it("POSTs the finished blob to its callback_url, signed with the deployment's secret", async () => {
    const { log, delivered } = story(callbackUrl);
    memory.store = new InMemoryEventStore(log);
    await handler(delivered, context);
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
  });

  it('says what the blob was as of the event, not what happened after', async () => {
    const { log, delivered } = story(callbackUrl);
    // The same event delivered again after the log moved on (a version 4 no blob has today).
    const later = { ...log[2]!, version: 4, occurred_at: '2026-11-24T17:50:00.000Z' } as BlobEvent;
    memory.store = new InMemoryEventStore([...log, later]);
    await handler(delivered, context);
    const payload = JSON.parse(receiver.requests[0]!.body) as { data: { completed_on: string } };
    expect(payload.data.completed_on).toBe(log[2]!.occurred_at);
  });

  it('fails the invocation when the receiver fails, so that EventBridge delivers it again', async () => {
    const { log, delivered } = story(callbackUrl);
    memory.store = new InMemoryEventStore(log);
    receiver.answers.push(503);
    await expect(handler(delivered, context)).rejects.toThrow('answered 503');
    await handler(delivered, context);
    expect(receiver.requests.map((request) => request.headers['webhook-id'])).toEqual([`${delivered.detail.blob_id}.3`, `${delivered.detail.blob_id}.3`]);
  });

  it('gives up on a receiver that refuses for good (a 4xx): nothing is left to redeliver', async () => {
    const { log, delivered } = story(callbackUrl);
    memory.store = new InMemoryEventStore(log);
    receiver.answers.push(410);
    await expect(handler(delivered, context)).resolves.toBeUndefined();
    expect(receiver.requests).toHaveLength(1);
  });

  it('sends nothing to an address the policy refuses, and does not retry it', async () => {
    // 127.0.0.2 is loopback, and only 127.0.0.1 is opened: refused before any connection.
    const { log, delivered } = story(callbackUrl.replace('127.0.0.1', '127.0.0.2'));
    memory.store = new InMemoryEventStore(log);
    await expect(handler(delivered, context)).resolves.toBeUndefined();
    expect(receiver.requests).toEqual([]);
  });

  it('sends nothing for a blob without a callback_url, or one it does not know', async () => {
    const { log, delivered } = story(callbackUrl);
    const withoutCallback = log.map((event) => {
      if (!('callback_url' in event.data)) return event;
      const { callback_url: _dropped, ...data } = event.data;
      return { ...event, data } as BlobEvent;
    });
    memory.store = new InMemoryEventStore(withoutCallback);
    await handler(delivered, context);
    memory.store = new InMemoryEventStore();
    await handler(delivered, context);
    expect(receiver.requests).toEqual([]);
  });
});
