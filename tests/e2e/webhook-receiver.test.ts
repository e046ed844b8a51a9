// examples/webhook-receiver against real callbacks from the local stack: it verifies and prints
// each kind of message, takes a repeat once and refuses a forgery. What the stack sent is also
// checked against the contract (openapi.yaml, webhooks: -> WebhookPayload).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageLabelingClient, type WebhookPayload } from '@image-labeling/client';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { eventually, startStackProcess, type StackProcess } from '../support/stack-process.ts';
import { projectRoot } from '../support/template.ts';

const secret = 'whsec_cmVjZWl2ZXItZXhhbXBsZS1zZWNyZXQtcmVjZWl2ZXI=';
const fixture = (name: string) => join(projectRoot, 'tests/fixtures', name);

interface Printed {
  webhook_id: string;
  type: string;
  blob_id: string;
  summary: string;
  payload: WebhookPayload;
}

/** The contract's schema for the payload: OpenAPI keeps shared schemas under components, JSON Schema under $defs. */
function contractValidator() {
  const document = parse(readFileSync(join(projectRoot, 'openapi.yaml'), 'utf8')) as { components: { schemas: object } };
  const defs = JSON.parse(JSON.stringify(document.components.schemas).replaceAll('#/components/schemas/', '#/$defs/')) as object;
  const ajv = new Ajv2020.default({ strict: true, allErrors: true });
  addFormats.default(ajv);
  return ajv.compile({ $defs: defs, $ref: '#/$defs/WebhookPayload' });
}

let stack: StackProcess;
let client: ImageLabelingClient;
let receiver: ChildProcess;
let receiverUrl: string;
const printed: Printed[] = [];
let refusals = '';

beforeAll(async () => {
  // URLs live 5 s, then 1 s of grace and a sweep every second: a blob never uploaded ends quickly.
  stack = await startStackProcess({
    env: { CALLBACK_SIGNING_SECRET: secret, UPLOAD_URL_TTL_SECONDS: '5', EXPIRY_GRACE_SECONDS: '1', SCHEDULE_INTERVAL_SECONDS: '1' },
  });
  client = new ImageLabelingClient({ baseUrl: stack.apiUrl });
  receiver = spawn(process.execPath, ['--import', 'tsx', 'examples/webhook-receiver/receiver.ts'], {
    cwd: projectRoot,
    env: { ...process.env, WEBHOOK_SECRET: secret, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  receiver.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    const lines = stdout.split('\n');
    stdout = lines.pop()!;
    printed.push(...lines.map((line) => JSON.parse(line) as Printed));
  });
  receiverUrl = await new Promise<string>((resolve, reject) => {
    receiver.stderr!.on('data', (chunk: Buffer) => {
      refusals += chunk.toString();
      const listening = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(refusals);
      if (listening) resolve(listening[1]!);
    });
    receiver.once('exit', (code) => reject(new Error(`the receiver exited (${code}): ${refusals}`)));
  });
});
afterAll(async () => {
  receiver?.kill('SIGTERM');
  await stack?.stop();
});

const printedFor = (blobId: string) => eventually(async () => printed.find((line) => line.blob_id === blobId), 30_000);

describe('the webhook receiver example', () => {
  const validate = contractValidator();

  it('prints a verified blob.completed, as the contract describes it', async () => {
    const blob = await client.labelImage(fixture('chelsea.png'), { callback_url: `${receiverUrl}/hooks` });
    const line = await printedFor(blob.blob_id);
    expect(line).toMatchObject({ type: 'blob.completed', webhook_id: `${blob.blob_id}.3`, summary: `labels: ${blob.labels!.join(', ')}` });
    expect(line.payload.data).toMatchObject({ blob_id: blob.blob_id, invocation_status: 'COMPLETED', labels: blob.labels });
    expect(validate(line.payload), JSON.stringify(validate.errors)).toBe(true);
  });

  it('prints a verified blob.failed with its code', async () => {
    const blob = await client.labelImage(new TextEncoder().encode('no image'), { callback_url: `${receiverUrl}/hooks` });
    const line = await printedFor(blob.blob_id);
    expect(line).toMatchObject({ type: 'blob.failed', summary: expect.stringMatching(/^failed: INVALID_IMAGE_FORMAT \(/) });
    expect(validate(line.payload), JSON.stringify(validate.errors)).toBe(true);
  });

  it('prints a verified blob.expired for a blob never uploaded', async () => {
    const blob = await client.createBlob({ callback_url: `${receiverUrl}/hooks` });
    const line = await printedFor(blob.blob_id);
    expect(line).toMatchObject({ type: 'blob.expired', payload: { data: { invocation_status: 'EXPIRED' } } });
    expect(validate(line.payload), JSON.stringify(validate.errors)).toBe(true);
  });

  it('refuses a delivery signed with another secret, and takes a repeated webhook-id once', async () => {
    const body = JSON.stringify({ type: 'blob.expired', timestamp: new Date().toISOString(), data: { blob_id: '01JD8Y7N3Q4W5E6R7T8Y9V0K1P' } });
    const headersSignedWith = (key: string) => {
      const now = new Date();
      return {
        'content-type': 'application/json',
        'webhook-id': '01JD8Y7N3Q4W5E6R7T8Y9V0K1P.2',
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': new Webhook(key).sign('01JD8Y7N3Q4W5E6R7T8Y9V0K1P.2', now, body),
      };
    };
    const forged = await fetch(`${receiverUrl}/hooks`, { method: 'POST', body, headers: headersSignedWith('whsec_Zm9yZ2VkLXNlY3JldC1mb3JnZWQtc2VjcmV0LWZvcmdlZA==') });
    expect(forged.status).toBe(401);
    await eventually(async () => refusals.includes('refused a delivery to /hooks'));
    expect(printed.filter((line) => line.blob_id === '01JD8Y7N3Q4W5E6R7T8Y9V0K1P')).toEqual([]);

    for (let attempt = 0; attempt < 2; attempt++) {
      const genuine = await fetch(`${receiverUrl}/hooks`, { method: 'POST', body, headers: headersSignedWith(secret) });
      expect(genuine.status).toBe(204);
    }
    // A later message from the stack shows the receiver has printed everything before it.
    const after = await client.labelImage(new TextEncoder().encode('still no image'), { callback_url: `${receiverUrl}/hooks` });
    await printedFor(after.blob_id);
    expect(printed.filter((line) => line.blob_id === '01JD8Y7N3Q4W5E6R7T8Y9V0K1P')).toHaveLength(1);
  });
});
