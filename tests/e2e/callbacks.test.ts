// Webhooks: a signed POST to callback_url when a blob ends, verifiable with any Standard
// Webhooks library, retried with the same webhook-id until the receiver takes it, or kept in
// the dead-letter queue when its retry window is used up, and retried anew after a redrive.
// The stack's retries start at 1 s (CALLBACK_FIRST_RETRY_SECONDS) and stop 30 s after the
// blob's end (CALLBACK_RETRY_WINDOW_SECONDS), instead of 30 s and a day.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startStackProcess, waitForStatus, type StackProcess } from '../support/stack-process.ts';
import { projectRoot } from '../support/template.ts';

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
/** Paths whose receiver is down: 503, always. */
const down = new Set<string>();

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(down.has(req.url ?? '') ? 503 : (scripted.get(req.url ?? '')?.shift() ?? 204));
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  stack = await startStackProcess({ env: { CALLBACK_SIGNING_SECRET: secret, CALLBACK_FIRST_RETRY_SECONDS: '1', CALLBACK_RETRY_WINDOW_SECONDS: '30' } });
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

  it('retries a receiver that fails, later each time, with the same webhook-id, until it succeeds', async () => {
    scripted.set('/hooks/flaky', [503, 503, 503]);
    const blob = await labelWithCallback('/hooks/flaky', horse);
    // The sender logs the success once the receiver took it; the delivery is then settled.
    await eventually(async () => stack.logs().some((l) => l.blob_id === blob.blob_id && l.message === 'callback delivered'));
    const deliveries = received.filter((r) => r.path === '/hooks/flaky');
    expect(deliveries).toHaveLength(4); // three failures, one success, none after it
    expect(new Set(deliveries.map((d) => d.headers['webhook-id']))).toEqual(new Set([`${blob.blob_id}.3`]));
    // Each failure put the message back for a delay that doubles: 1 s, 1-2 s, 2-4 s.
    const delays = stack.logs().filter((l) => l.blob_id === blob.blob_id && l.message === 'callback failed; will be retried');
    expect(delays.map((l) => l.receive_count)).toEqual([1, 2, 3]);
    expect(delays.map((l) => l.retry_in_seconds)).toEqual([1, expect.toSatisfy((s: number) => s >= 1 && s <= 2), expect.toSatisfy((s: number) => s >= 2 && s <= 4)]);
    // What finally arrived verifies: signed anew, under the same id.
    const last = deliveries.at(-1)!;
    const payload = new Webhook(secret).verify(last.body, last.headers as Record<string, string>) as { data: { blob_id: string } };
    expect(payload.data.blob_id).toBe(blob.blob_id);
  });

  it('keeps a callback its receiver never took in the dead-letter queue once the retry window is used up: logged and listed', async () => {
    down.add('/hooks/down');
    const blob = await labelWithCallback('/hooks/down', horse);
    const kept = await eventually(
      async () => stack.logs().find((l) => l.blob_id === blob.blob_id && l.message === 'callback failed until its retry window was used up; kept in the dead-letter queue'),
      60_000,
    );
    const deliveries = received.filter((r) => r.path === '/hooks/down');
    expect(deliveries.length).toBeGreaterThanOrEqual(3);
    expect(kept.receive_count).toBe(deliveries.length);
    expect(new Set(deliveries.map((d) => d.headers['webhook-id']))).toEqual(new Set([`${blob.blob_id}.3`]));

    const summary = await deadLetters();
    expect(summary).toMatch(/^\s+1 {2}image-labeling-SendCallbackFailuresQueue {2}<- RedrivePolicy of CallbackQueue$/m);
    const [message] = JSON.parse(await deadLetters('SendCallbackFailuresQueue')) as { attributes: Record<string, string>; body: Record<string, unknown> }[];
    // The event as the bus queued it, ready for a redrive, and why it is there.
    expect(message!.body).toMatchObject({ source: 'image-labeling.blobs', 'detail-type': 'BlobLabeled', detail: { blob_id: blob.blob_id, version: 3 } });
    expect(message!.attributes).toMatchObject({
      ERROR_CODE: 'RetryWindowUsedUp',
      ERROR_MESSAGE: expect.stringContaining('answered 503'),
      RECEIVE_COUNT: String(deliveries.length),
    });

    // The receiver is coming back (one more 503, then it takes it): the documented redrive. The
    // sender put the message there itself, so it has no source queue to go back to and the
    // destination must be named.
    down.delete('/hooks/down');
    scripted.set('/hooks/down', [503]);
    // Redriven once the blob's own window (30 s from its end) is over, as a redrive a day later would be.
    const windowEnds = Date.parse(blob.completed_on!) + 30_000;
    await eventually(async () => Date.now() > windowEnds, 40_000);
    const unnamed = await deadLetters('--redrive', 'SendCallbackFailuresQueue').catch((error: { code: number; stdout: string }) => error);
    expect(unnamed).toMatchObject({ code: 1, stdout: expect.stringMatching(/^FAILED: moved 0 of 1 message\(s\)[^]*DestinationArn/) });
    expect(await deadLetters('--redrive', 'SendCallbackFailuresQueue', '--to', 'CallbackQueue')).toMatch(
      /^COMPLETED: moved 1 of 1 message\(s\) from image-labeling-SendCallbackFailuresQueue to image-labeling-CallbackQueue$/m,
    );
    // Retried after its 503 and delivered under the same id: the redrive gave it a retry window
    // of its own, although the blob ended longer ago than a window.
    await eventually(async () => stack.logs().some((l) => l.blob_id === blob.blob_id && l.message === 'callback delivered'));
    const after = received.filter((r) => r.path === '/hooks/down');
    expect(after).toHaveLength(deliveries.length + 2);
    expect(after.at(-1)!.headers['webhook-id']).toBe(`${blob.blob_id}.3`);
    expect(await deadLetters()).toMatch(/^\s+0 {2}image-labeling-SendCallbackFailuresQueue/m);
  }, 120_000);

  it("says what SQS refused when asked to redrive a queue that is not a dead-letter queue, without a stack trace", async () => {
    const refused = await deadLetters('--redrive', 'CallbackQueue').catch((error: { code: number; stderr: string }) => error);
    expect(refused).toMatchObject({ code: 1 });
    const { stderr } = refused as { stderr: string };
    expect(stderr).toContain('InvalidParameterValue: Source queue must be configured as a Dead Letter Queue.');
    expect(stderr).not.toMatch(/^\s+at /m);
  });

  it('does not retry a receiver that refuses for good (a 4xx)', async () => {
    scripted.set('/hooks/gone', [410, 410, 410]);
    const blob = await labelWithCallback('/hooks/gone', horse);
    // Logged when the sender gives up, without throwing: nothing is left to redeliver.
    await eventually(async () => stack.logs().some((l) => l.blob_id === blob.blob_id && l.message === 'callback refused; not retried'));
    expect(received.filter((r) => r.path === '/hooks/gone')).toHaveLength(1);
  });
});

async function deadLetters(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/dead-letters.ts', ...args], {
    cwd: projectRoot,
    env: { ...process.env, DATA_DIR: stack.dataDirectory },
  });
  return stdout;
}

async function createWith(api: StackProcess, callbackUrl: string) {
  const response = await fetch(`${api.apiUrl}/blobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ callback_url: callbackUrl }),
  });
  return { response, body: (await response.json()) as { blob_id?: string; upload_url?: string; detail?: string; errors?: { pointer: string; detail: string }[] } };
}

describe('where callbacks may go: the local default opens loopback and nothing else', () => {
  it.each([
    ['http://169.254.169.254/latest/meta-data/', 'a cloud metadata service (169.254.169.254)'],
    ['http://0xA9FEA9FE/', 'a cloud metadata service (169.254.169.254)'],
    ['http://[::a9fe:a9fe]/', 'a cloud metadata service (169.254.169.254, inside ::a9fe:a9fe)'],
    ['http://[64:ff9b::a9fe:a9fe]/', 'a cloud metadata service (169.254.169.254, inside 64:ff9b::a9fe:a9fe)'],
    ['http://METADATA.GOOGLE.INTERNAL./computeMetadata/v1/', 'a cloud metadata service (metadata.google.internal)'],
    ['http://012.0.0.1/hook', 'a private address (10.0.0.1)'],
    ['http://[::ffff:192.168.1.1]/hook', 'a private address (192.168.1.1)'],
    ['http://100.64.0.1/hook', 'a carrier-grade NAT address (100.64.0.1)'],
    ['http://[fd12::1]/hook', 'a unique-local address (fd12::1)'],
  ])('refuses %s when the blob is created: 400 saying why', async (callbackUrl, what) => {
    const { response, body } = await createWith(stack, callbackUrl);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(body.detail).toBe(`callback_url points at ${what}.`);
    expect(body.errors).toEqual([{ pointer: '#/callback_url', detail: `callback_url points at ${what}` }]);
  });

  it.each(['http://127.0.0.1:9/hook', 'http://127.1:9/hook', 'http://0x7f000001:9/hook', 'http://[::1]:9/hook', 'http://localhost:9/hook'])(
    'accepts %s',
    async (callbackUrl) => {
      const { response } = await createWith(stack, callbackUrl);
      expect(response.status).toBe(201);
    },
  );
});

describe('where callbacks may go: with no allow-list, as in AWS', () => {
  let strict: StackProcess;
  beforeAll(async () => {
    strict = await startStackProcess({ env: { CALLBACK_SIGNING_SECRET: secret, CALLBACK_ALLOWED_HOSTS: '', DETECTOR_WORKERS: '1' } });
  });
  afterAll(async () => {
    await strict?.stop();
  });

  it('refuses a receiver on 127.0.0.1 when the blob is created', async () => {
    const { response, body } = await createWith(strict, `${receiverUrl}/hooks/literal`);
    expect(response.status).toBe(400);
    expect(body.detail).toBe('callback_url points at a loopback address (127.0.0.1).');
  });

  it('refuses at delivery a host name that resolves to loopback: never connected to, logged, not retried', async () => {
    // A name is not resolved in the request path; localhost resolves to loopback only when the callback goes.
    const { port } = new URL(receiverUrl);
    const { response, body: blob } = await createWith(strict, `http://localhost:${port}/hooks/resolved`);
    expect(response.status).toBe(201);
    await fetch(blob.upload_url!, { method: 'PUT', body: 'no image here', headers: { 'content-type': 'image/png' } });
    await waitForStatus(strict, blob.blob_id!, ['FAILED']);
    const refused = await eventually(async () =>
      strict.logs().find((l) => l.blob_id === blob.blob_id && l.message === 'callback address refused; not retried'),
    );
    expect(refused).toMatchObject({ level: 'WARN', refusal: { reason: 'loopback', host: 'localhost', address: expect.stringMatching(/^127\.|^::1$/) } });
    expect(received.filter((r) => r.path === '/hooks/resolved')).toEqual([]);
    expect(strict.logs().filter((l) => l.blob_id === blob.blob_id && String(l.message).startsWith('callback '))).toHaveLength(1);
  });
});
