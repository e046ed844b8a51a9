// The webhook: `npm start` with WEBHOOK_* runs the template's API destination as EventBridge
// does, against receivers on 127.0.0.1: the event itself POSTed with the connection's
// authorization, retried on 503 and 429 (waiting out Retry-After), not retried on a 400, which
// lands in the dead-letter queue, and an OAuth token fetched again after a 401.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DurableQueues } from '../../local/durable-queue.ts';
import { LocalEventBridge } from '../../local/eventbridge/bus.ts';
import { LambdaRuntime, sourceModule } from '../../local/lambda-runtime.ts';
import { LocalSqs } from '../../local/sqs.ts';
import { loadTemplate } from '../../local/template.ts';
import { eventually, startStackProcess, waitForStatus, type StackProcess } from '../support/stack-process.ts';
import { projectRoot } from '../support/template.ts';

const chelsea = readFileSync(new URL('../fixtures/chelsea.png', import.meta.url));
const horse = readFileSync(new URL('../fixtures/horse.png', import.meta.url));

interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
  event: { 'detail-type': string; source: string; detail: { blob_id: string; type: string; data: Record<string, unknown> } };
}

/** A receiver on 127.0.0.1 that records every request and answers from a script per blob. */
class Receiver {
  readonly received: Received[] = [];
  /** Answers per blob id, in turn; 200 once they run out. */
  readonly script = new Map<string, { status: number; headers?: Record<string, string> }[]>();
  private server: Server | undefined;
  url = '';

  constructor(private readonly answer?: (req: IncomingMessage, res: ServerResponse, event: Received['event']) => boolean) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const event = JSON.parse(body) as Received['event'];
        this.received.push({ at: Date.now(), headers: req.headers, body, event });
        if (this.answer?.(req, res, event)) return;
        const next = this.script.get(event.detail.blob_id)?.shift() ?? { status: 200 };
        res.writeHead(next.status, next.headers);
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  of(blobId: string): Received[] {
    return this.received.filter((r) => r.event.detail.blob_id === blobId);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

async function createBlob(stack: StackProcess): Promise<{ blob_id: string; upload_url: string }> {
  const { data } = await stack.api.POST('/blobs', { body: {} });
  return { blob_id: data!.blob_id, upload_url: data!.upload_url! };
}

async function upload(stack: StackProcess, blob: { blob_id: string; upload_url: string }, bytes: Buffer) {
  await fetch(blob.upload_url, { method: 'PUT', body: bytes, headers: { 'content-type': 'image/png' } });
  return waitForStatus(stack, blob.blob_id, ['COMPLETED', 'FAILED']);
}

describe('webhook with an API key', () => {
  const receiver = new Receiver();
  let stack: StackProcess;

  beforeAll(async () => {
    await receiver.start();
    stack = await startStackProcess({
      env: {
        WEBHOOK_ENDPOINT: `${receiver.url}/blob-events`,
        WEBHOOK_AUTHORIZATION: 'API_KEY',
        WEBHOOK_API_KEY_NAME: 'x-api-key',
        WEBHOOK_API_KEY_VALUE: 'test-key-123',
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver.close();
  });

  it('POSTs the final event itself with the API key, retrying a 503 until the 200', async () => {
    const created = await createBlob(stack);
    receiver.script.set(created.blob_id, [{ status: 503 }]);
    const blob = await upload(stack, created, chelsea);
    expect(blob.invocation_status).toBe('COMPLETED');

    const [refused, taken] = await eventually(async () => receiver.of(blob.blob_id).length >= 2 && receiver.of(blob.blob_id));
    expect(taken!.body).toBe(refused!.body); // the same event, again
    for (const request of [refused!, taken!]) {
      expect(request.headers['x-api-key']).toBe('test-key-123');
      expect(request.headers['content-type']).toMatch(/^application\/json/);
    }
    // The body is the EventBridge event: it names the blob, the event type and the outcome.
    expect(taken!.event).toMatchObject({
      source: 'image-labeling.blobs',
      'detail-type': 'BlobLabeled',
      detail: { blob_id: blob.blob_id, type: 'BlobLabeled', data: { labels: expect.any(Array) } },
    });
    const labels = (taken!.event.detail.data.labels as { name: string }[]).map((label) => label.name);
    expect(labels).toEqual(blob.labels);
    // Only the final event: not BlobCreated nor BlobUploaded.
    expect(receiver.of(blob.blob_id).every((r) => r.event['detail-type'] === 'BlobLabeled')).toBe(true);
  });

  it('waits out a 429 Retry-After before it retries', async () => {
    const created = await createBlob(stack);
    receiver.script.set(created.blob_id, [{ status: 429, headers: { 'retry-after': '2' } }]);
    const blob = await upload(stack, created, chelsea);
    const [limited, taken] = await eventually(async () => receiver.of(blob.blob_id).length >= 2 && receiver.of(blob.blob_id));
    expect(taken!.at - limited!.at).toBeGreaterThanOrEqual(1900);
  });

  it('does not retry a 400: the event goes to the dead-letter queue, with the error', async () => {
    const blob = await createBlob(stack);
    receiver.script.set(blob.blob_id, [{ status: 400 }, { status: 400 }]);
    const failed = await upload(stack, blob, Buffer.from('not an image'));
    expect(failed.invocation_status).toBe('FAILED');

    const line = await eventually(async () => stack.logs().find((l) => l.message === 'delivery failed for good; dead-lettered' && l.blob_id === blob.blob_id));
    expect(line).toMatchObject({ attempts: 1, dead_letter_queue: 'image-labeling-WebhookDeadLetterQueue' });
    expect(receiver.of(blob.blob_id)).toHaveLength(1);
    expect(receiver.of(blob.blob_id)[0]!.event['detail-type']).toBe('BlobFailed');

    // What the dead-letter queue holds, as `npm run dead-letters` shows it.
    const response = await fetch(`${stack.endpoints.sqs}/_local/queues/image-labeling-WebhookDeadLetterQueue`);
    const messages = (await response.json()) as { body: Received['event']; attributes: Record<string, string> }[];
    const letter = messages.find((message) => message.body.detail.blob_id === blob.blob_id);
    expect(letter?.attributes).toMatchObject({ ERROR_CODE: '400', TARGET_ARN: expect.stringContaining(':api-destination/') });
    expect(letter!.body).toMatchObject({ 'detail-type': 'BlobFailed', detail: { data: { code: failed.failure?.code } } });
  });

  describe('the consumer rule of docs/event-consumers.md', () => {
    // The API-key stack above delivers real events to its receiver; they are routed here.
    const directory = mkdtempSync(join(tmpdir(), 'consumer-rule-'));
    afterAll(() => rmSync(directory, { recursive: true, force: true }));

    it('routes the labeled cat to its queue, and not the horse', async () => {
      // Real BlobLabeled events, as the stack's bus delivered them (to the webhook).
      const cat = await upload(stack, await createBlob(stack), chelsea);
      const notCat = await upload(stack, await createBlob(stack), horse);
      expect(cat.labels).toContain('Cat');
      expect(notCat.invocation_status).toBe('COMPLETED');
      expect(notCat.labels).not.toContain('Cat');
      const delivered = await eventually(async () => {
        const events = [cat, notCat].map((blob) => receiver.of(blob.blob_id).find((r) => r.event['detail-type'] === 'BlobLabeled')?.event);
        return events.every(Boolean) && (events as Received['event'][]);
      });

      // The rule as the docs print it, on a local bus of its own, with its queue.
      const docs = readFileSync(`${projectRoot}docs/event-consumers.md`, 'utf8');
      const yaml = /<!-- consumer-rule:[^\n]*\n```yaml\n([\s\S]*?)```/.exec(docs)?.[1];
      expect(yaml).toBeDefined();
      writeFileSync(join(directory, 'template.yaml'), yaml!);
      const template = loadTemplate(join(directory, 'template.yaml'), { stackName: 'consumer', region: 'us-east-1', accountId: '000000000000' });
      const queues = await DurableQueues.open(join(directory, 'queues'));
      try {
        const runtime = new LambdaRuntime(sourceModule(projectRoot));
        const logger = { error: () => {} };
        const sqs = new LocalSqs({ definitions: template.queues, queues, runtime, region: 'us-east-1', logger });
        const bus = new LocalEventBridge({ buses: ['default', 'image-labeling-blobs'], rules: template.rules, queues, runtime, sqs, region: 'us-east-1', accountId: '000000000000', logger });
        const results = await bus.putEvents(
          delivered.map((event) => ({ EventBusName: 'image-labeling-blobs', Source: event.source, DetailType: event['detail-type'], Detail: JSON.stringify(event.detail) })),
        );
        expect(results.every((result) => result.EventId)).toBe(true);
        const routed = sqs.messages('consumer-CatsQueue').map((message) => (message.body as Received['event']).detail.blob_id);
        expect(routed).toEqual([cat.blob_id]);
      } finally {
        await queues.close();
      }
    });
  });
});

describe('webhook with OAuth client credentials', () => {
  const tokens: { authorization: string | undefined; body: string }[] = [];
  let tokenServer: Server;
  let tokenUrl = '';
  /** Tokens the receiver refuses once (as if revoked), by value. */
  const revokeOnce = new Set<string>();
  const receiver = new Receiver((req, res) => {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (!token.startsWith('token-') || revokeOnce.delete(token)) {
      res.writeHead(401);
      res.end();
      return true;
    }
    return false;
  });
  let stack: StackProcess;

  beforeAll(async () => {
    tokenServer = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        tokens.push({ authorization: req.headers.authorization, body });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ access_token: `token-${tokens.length}`, token_type: 'Bearer', expires_in: 3600 }));
      });
    });
    await new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.1', resolve));
    tokenUrl = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/oauth/token`;
    await receiver.start();
    stack = await startStackProcess({
      env: {
        WEBHOOK_ENDPOINT: `${receiver.url}/blob-events`,
        WEBHOOK_AUTHORIZATION: 'OAUTH_CLIENT_CREDENTIALS',
        WEBHOOK_OAUTH_TOKEN_URL: tokenUrl,
        WEBHOOK_OAUTH_CLIENT_ID: 'image-labeling',
        WEBHOOK_OAUTH_CLIENT_SECRET: 'client-secret',
        WEBHOOK_OAUTH_SCOPE: 'blobs:write',
        WEBHOOK_EVENTS: 'all',
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver.close();
    await new Promise((resolve) => tokenServer?.close(resolve));
  });

  it('fetches a token, keeps it, and fetches a new one when the receiver answers 401', async () => {
    const first = await createBlob(stack);
    // WEBHOOK_EVENTS all: BlobCreated is delivered too, with the first token.
    const created = await eventually(async () => receiver.of(first.blob_id).find((r) => r.event['detail-type'] === 'BlobCreated'));
    expect(created.headers.authorization).toBe('Bearer token-1');
    expect(tokens).toHaveLength(1);
    expect(tokens[0]!.authorization).toBe(`Basic ${Buffer.from('image-labeling:client-secret').toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(tokens[0]!.body))).toEqual({ grant_type: 'client_credentials', scope: 'blobs:write' });

    revokeOnce.add('token-1');
    const second = await createBlob(stack);
    const requests = await eventually(async () => {
      const found = receiver.of(second.blob_id).filter((r) => r.event['detail-type'] === 'BlobCreated');
      return found.length >= 2 && found;
    });
    expect(requests.map((r) => r.headers.authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
    expect(tokens).toHaveLength(2);
  });
});

describe('webhook deliveries and kill -9', () => {
  const receiver = new Receiver();
  let stack: StackProcess | undefined;
  const dataDirectory = mkdtempSync(join(tmpdir(), 'webhook-kill-'));
  const env = {
    WEBHOOK_ENDPOINT: '',
    WEBHOOK_API_KEY_NAME: 'x-api-key',
    WEBHOOK_API_KEY_VALUE: 'k',
    WEBHOOK_EVENTS: 'all',
  };

  beforeAll(async () => {
    await receiver.start();
    env.WEBHOOK_ENDPOINT = `${receiver.url}/blob-events`;
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver.close();
    rmSync(dataDirectory, { recursive: true, force: true });
  });

  it('delivers after a restart what the endpoint had not taken when the stack was killed', async () => {
    stack = await startStackProcess({ env, dataDirectory });
    const blob = await createBlob(stack);
    // The endpoint is down for this blob's events until the stack has been killed.
    receiver.script.set(blob.blob_id, Array.from({ length: 1000 }, () => ({ status: 503 })));
    await eventually(async () => receiver.of(blob.blob_id).length >= 1);
    await stack.kill();
    const before = receiver.of(blob.blob_id).length;
    receiver.script.delete(blob.blob_id);

    stack = await startStackProcess({ env, dataDirectory });
    const taken = await eventually(async () => receiver.of(blob.blob_id).length > before && receiver.of(blob.blob_id).at(-1));
    expect(taken).toMatchObject({ event: { 'detail-type': 'BlobCreated', detail: { blob_id: blob.blob_id } } });
  });
});
