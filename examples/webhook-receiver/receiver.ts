// A webhook receiver for the Image Labeling API: verifies each delivery's Standard Webhooks
// signature, takes each message once (deliveries are at least once), and prints it as a JSON line.
//
//   WEBHOOK_SECRET=whsec_... PORT=8787 npx tsx examples/webhook-receiver/receiver.ts
//
// Then create blobs with "callback_url": "http://127.0.0.1:8787/hooks". Answer fast with a 2xx:
// any 5xx, 408 or 429 is retried for up to a day; other 4xx are taken as "no thanks".
import { createServer } from 'node:http';
import type { WebhookPayload } from '@image-labeling/client';
import { Webhook } from 'standardwebhooks';

// The local stack's development secret, unless told otherwise (CallbackSigningSecret in AWS).
const secret = process.env.WEBHOOK_SECRET ?? 'whsec_bG9jYWwtZGV2ZWxvcG1lbnQtc2lnbmluZy1zZWNyZXQ=';
const port = Number(process.env.PORT ?? 8787);
const maxBodyBytes = 1024 * 1024;

const webhook = new Webhook(secret);
// A real receiver keeps these where its own work is recorded, so a retry after a crash is still known.
const seen = new Set<string>();

function summary(payload: WebhookPayload): string {
  switch (payload.type) {
    case 'blob.completed':
      return payload.data.labels.length ? `labels: ${payload.data.labels.join(', ')}` : 'nothing recognised';
    case 'blob.failed':
      return `failed: ${payload.data.failure.code} (${payload.data.failure.message})`;
    case 'blob.expired':
      return 'expired: no image was uploaded in time';
  }
}

const server = createServer((request, response) => {
  if (request.method !== 'POST') {
    response.writeHead(405, { allow: 'POST' }).end();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  request.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > maxBodyBytes) request.destroy();
    else chunks.push(chunk);
  });
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    let payload: WebhookPayload;
    try {
      // Checks the HMAC over id, timestamp and the body exactly as received, and that the timestamp is recent.
      payload = webhook.verify(body, request.headers as Record<string, string>) as WebhookPayload;
    } catch (error) {
      console.error(`refused a delivery to ${request.url}: ${(error as Error).message}`);
      response.writeHead(401).end();
      return;
    }
    const id = request.headers['webhook-id'] as string;
    response.writeHead(204).end();
    if (seen.has(id)) return;
    seen.add(id);
    console.log(JSON.stringify({ webhook_id: id, type: payload.type, blob_id: payload.data.blob_id, summary: summary(payload), payload }));
  });
});

server.listen(port, '127.0.0.1', () => {
  const { port: listening } = server.address() as { port: number };
  console.error(`listening on http://127.0.0.1:${listening}`);
});
process.once('SIGTERM', () => server.close());
process.once('SIGINT', () => server.close());
