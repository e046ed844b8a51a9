// Webhooks: a signed POST to callback_url when a blob ends, verifiable with any Standard
// Webhooks library, retried with the same webhook-id until the receiver takes it.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startStackProcess, waitForStatus, type StackProcess } from '../support/stack-process.ts';

const secret = 'whsec_Y2FsbGJhY2stdGVzdC1zZWNyZXQtY2FsbGJhY2stdGVzdA==';
const horse = readFileSync(new URL('../fixtures/horse.png', import.meta.url));

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let stack: StackProcess;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
/** Status codes the receiver answers with, in turn, per path; 204 once they run out. */
const scripted = new Map<string, number[]>();

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(scripted.get(req.url ?? '')?.shift() ?? 204);
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  stack = await startStackProcess({ env: { CALLBACK_SIGNING_SECRET: secret } });
});
afterAll(async () => {
  await stack?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

async function labelWithCallback(path: string, bytes: Buffer) {
  const { data: blob } = await stack.api.POST('/blobs', { body: { callback_url: `${receiverUrl}${path}` } });
  await fetch(blob!.upload_url!, { method: 'PUT', body: bytes, headers: { 'content-type': 'image/png' } });
  return waitForStatus(stack, blob!.blob_id, ['COMPLETED', 'FAILED']);
}

describe('callbacks', () => {
  it('POSTs the finished blob, signed so the receiver can verify it', async () => {
    const blob = await labelWithCallback('/hooks/one', horse);
    const delivery = await eventually(async () => received.find((r) => r.path === '/hooks/one'));
    const payload = new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>) as {
      type: string;
      data: { blob_id: string; invocation_status: string; labels: string[] };
    };
    expect(payload.type).toBe('blob.completed');
    expect(payload.data).toMatchObject({ blob_id: blob.blob_id, invocation_status: 'COMPLETED', labels: blob.labels });
    expect(delivery.headers['webhook-id']).toBe(`${blob.blob_id}.3`);
    expect(delivery.headers['content-type']).toBe('application/json');
    // The final event repeats the callback_url: it is what routes the event to the sender.
    const { data: log } = await stack.api.GET('/blobs/{blob_id}/events', { params: { path: { blob_id: blob.blob_id } } });
    expect(log!.events.at(-1)).toMatchObject({ type: 'BlobLabeled', data: { callback_url: `${receiverUrl}/hooks/one` } });
    // Another secret does not verify it.
    expect(() => new Webhook('whsec_b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC1vdGhlcg==').verify(delivery.body, delivery.headers as Record<string, string>)).toThrow();
  });

  it('tells of failures too', async () => {
    const blob = await labelWithCallback('/hooks/failed', Buffer.from('no image here'));
    const delivery = await eventually(async () => received.find((r) => r.path === '/hooks/failed'));
    const payload = JSON.parse(delivery.body) as { type: string; data: { failure: { code: string } } };
    expect(payload.type).toBe('blob.failed');
    expect(payload.data.failure.code).toBe(blob.failure?.code);
  });

  it('retries a receiver that fails, with the same webhook-id, until it succeeds', async () => {
    scripted.set('/hooks/flaky', [503, 500]);
    await labelWithCallback('/hooks/flaky', horse);
    const deliveries = await eventually(async () => {
      const found = received.filter((r) => r.path === '/hooks/flaky');
      return found.length >= 3 && found;
    });
    expect(new Set(deliveries.map((d) => d.headers['webhook-id'])).size).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(received.filter((r) => r.path === '/hooks/flaky')).toHaveLength(3); // none after the success
  });

  it('does not retry a receiver that refuses for good (a 4xx)', async () => {
    scripted.set('/hooks/gone', [410, 410, 410]);
    const blob = await labelWithCallback('/hooks/gone', horse);
    await eventually(async () => stack.logs().some((l) => l.blob_id === blob.blob_id && l.message === 'callback refused; not retried'));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(received.filter((r) => r.path === '/hooks/gone')).toHaveLength(1);
  });
});
