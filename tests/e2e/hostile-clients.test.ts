// No request may take the stack down: what careless or hostile clients send, through raw
// sockets to every server of the running stack, is answered or dropped, and a normal flow
// still completes afterwards in the same process.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStackProcess, waitForStatus, type StackProcess } from '../support/stack-process.ts';
import { projectRoot } from '../support/template.ts';

let stack: StackProcess;
beforeAll(async () => {
  // Links under a configured base (e.g. the API behind a proxy): checked at the end.
  stack = await startStackProcess({ env: { PUBLIC_BASE_URL: 'https://api.example.com/' } });
});
afterAll(async () => {
  await stack?.stop();
});

/** Sends raw bytes, optionally closes its side, and collects whatever comes back until the server closes. */
function raw(url: string, bytes: string, options: { closeAfterSend?: boolean } = {}): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(bytes);
      if (options.closeAfterSend) socket.destroy();
    });
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('close', () => resolve(received));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? resolve(received) : reject(error)));
    // A server that keeps the connection open after answering: take what came.
    socket.setTimeout(3_000, () => socket.destroy());
  });
}

function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
}

function headerOf(response: string, name: string): string | undefined {
  return new RegExp(`^${name}: *(.*)$`, 'im').exec(response.split('\r\n\r\n')[0] ?? '')?.[1]?.trim();
}

const truncatedBody = (path: string) =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"`;
const droppedChunkedBody = (path: string) =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n{"callback`;

function errorLines() {
  return stack.logs().filter((line) => line.level === 'ERROR');
}

describe('the API answers what it can and drops what it cannot', () => {
  it('a request target that is not a path (//[) gets a problem+json 4xx', async () => {
    const response = await raw(stack.apiUrl, 'GET //[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(statusOf(response)).toBeGreaterThanOrEqual(400);
    expect(statusOf(response)).toBeLessThan(500);
    expect(headerOf(response, 'content-type')).toBe('application/problem+json');
  });

  it('a body cut short, or a chunked body dropped, costs only that connection', async () => {
    await raw(stack.apiUrl, truncatedBody('/blobs'), { closeAfterSend: true });
    await raw(stack.apiUrl, droppedChunkedBody('/blobs'), { closeAfterSend: true });
    const response = await fetch(`${stack.apiUrl}/blobs`, { method: 'POST' });
    expect(response.status).toBe(201);
  });

  it.each([
    ['a malformed request line', 'NOT HTTP AT ALL\r\n\r\n', 400],
    ['headers over the limit', `GET /blobs HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ['a bad chunk size', 'POST /blobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n', 400],
  ])("%s gets Node's status as problem+json", async (_name, request, status) => {
    const response = await raw(stack.apiUrl, request);
    expect(statusOf(response)).toBe(status);
    expect(headerOf(response, 'content-type')).toBe('application/problem+json');
    expect(JSON.parse(response.split('\r\n\r\n')[1]!)).toMatchObject({ status, type: 'about:blank' });
  });

  it('a body over the API payload limit gets 413 problem+json', async () => {
    const response = await fetch(`${stack.apiUrl}/blobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.alloc(10 * 1024 * 1024 + 1, 0x20),
    });
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.json()).toMatchObject({ status: 413, title: 'Content Too Large' });
  });
});

describe('the AWS stand-ins survive the same', () => {
  it('S3: a bad target, an upload cut short and a dropped chunked body', async () => {
    const { data } = await stack.api.POST('/blobs', {});
    const upload = new URL(data!.upload_url!);
    const target = `${upload.pathname}${upload.search}`;
    expect(statusOf(await raw(stack.endpoints.s3, 'GET //[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))).toBeGreaterThanOrEqual(400);
    await raw(stack.endpoints.s3, `PUT ${target} HTTP/1.1\r\nHost: ${upload.host}\r\nContent-Length: 10\r\n\r\nab`, { closeAfterSend: true });
    await raw(stack.endpoints.s3, `PUT ${target} HTTP/1.1\r\nHost: ${upload.host}\r\nTransfer-Encoding: chunked\r\n\r\n20\r\nab`, { closeAfterSend: true });
    expect(statusOf(await raw(stack.endpoints.s3, 'NOT HTTP\r\n\r\n'))).toBe(400);
  });

  it.each(['dynamodb', 'eventbridge', 'rekognition'] as const)('%s: a bad target and a body cut short', async (name) => {
    const url = stack.endpoints[name];
    const response = await raw(url, 'POST //[ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    expect(statusOf(response)).toBeGreaterThanOrEqual(400);
    await raw(url, truncatedBody('/'), { closeAfterSend: true });
    await raw(url, droppedChunkedBody('/'), { closeAfterSend: true });
    expect(statusOf(await raw(url, 'NOT HTTP\r\n\r\n'))).toBe(400);
  });
});

describe('afterwards', () => {
  it('the same process still labels an image, and nothing above was an error of ours', async () => {
    const { data: created } = await stack.api.POST('/blobs', {});
    const image = readFileSync(join(projectRoot, 'tests/fixtures/chelsea.png'));
    const put = await fetch(created!.upload_url!, { method: 'PUT', body: image });
    expect(put.status).toBe(200);
    const blob = await waitForStatus(stack, created!.blob_id, ['COMPLETED', 'FAILED']);
    expect(blob.invocation_status).toBe('COMPLETED');
    expect(blob.labels).toContain('Cat');
    expect(errorLines()).toEqual([]);
    expect(blob._links.status).toBe(`https://api.example.com/blobs/${created!.blob_id}`);
  });
});
