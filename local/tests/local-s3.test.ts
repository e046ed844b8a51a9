import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startS3, type ObjectCreated, type RunningS3, type StartS3Options } from '../s3/server.ts';
import { NodeSha256 } from '../s3/sigv4.ts';
import { meter } from '../usage.ts';

const REGION = 'us-east-1';
const BUCKET = 'uploads';
const CREDENTIALS = { accessKeyId: 'AKIALOCALTEST', secretAccessKey: 'local-secret-key' };

let directory: string;
let server: RunningS3;
let onCreated: (record: ObjectCreated) => Promise<void>;
const created: ObjectCreated[] = [];

function start(overrides: Partial<StartS3Options> = {}): Promise<RunningS3> {
  return startS3({
    directory,
    buckets: [BUCKET],
    credentials: CREDENTIALS,
    region: REGION,
    onObjectCreated: (record) => onCreated(record),
    ...overrides,
  });
}

function client(config: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint: server.url,
    forcePathStyle: true,
    region: REGION,
    credentials: CREDENTIALS,
    maxAttempts: 1,
    ...config,
  });
}

// The settings the API's presigner uses: no checksum of an empty body in the URL.
function presignClient(): S3Client {
  return client({ requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
}

function presignPut(key: string, options: { contentType?: string; expiresIn?: number; signingDate?: Date } = {}): Promise<string> {
  const command = new PutObjectCommand({ Bucket: BUCKET, Key: key, ContentType: options.contentType ?? 'image/jpeg' });
  return getSignedUrl(presignClient(), command, {
    expiresIn: options.expiresIn ?? 300,
    signableHeaders: new Set(['content-type']),
    ...(options.signingDate ? { signingDate: options.signingDate } : {}),
  });
}

function put(url: string, body: string, headers: Record<string, string> = { 'content-type': 'image/jpeg' }): Promise<Response> {
  return fetch(url, { method: 'PUT', body, headers });
}

async function errorCode(response: Response): Promise<string | undefined> {
  return /<Code>([^<]*)<\/Code>/.exec(await response.text())?.[1];
}

async function readObject(key: string): Promise<string> {
  const object = await client().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return object.Body!.transformToString();
}

async function objectExists(key: string): Promise<boolean> {
  try {
    await client().send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return true;
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw error;
  }
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'local-s3-test-'));
  server = await start();
});

afterAll(async () => {
  await server?.close();
  await rm(directory, { recursive: true, force: true });
});

beforeEach(() => {
  created.length = 0;
  onCreated = async (record) => {
    created.push(record);
  };
});

describe('presigned PUT', () => {
  it('stores the object and reports it to onObjectCreated', async () => {
    const url = await presignPut('photos/cat one+two.jpg');
    const response = await put(url, 'jpeg-bytes');
    expect(response.status).toBe(200);
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({
      bucket: BUCKET,
      key: 'photos/cat one+two.jpg',
      size: 10,
      contentType: 'image/jpeg',
      etag: createHash('md5').update('jpeg-bytes').digest('hex'),
      requestId: response.headers.get('x-amz-request-id'),
    });
    expect(await readObject('photos/cat one+two.jpg')).toBe('jpeg-bytes');
  });

  it('answers 200 only after onObjectCreated has finished', async () => {
    let hookFinished = false;
    onCreated = async () => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      hookFinished = true;
    };
    const response = await put(await presignPut('photos/slow-hook.jpg'), 'x');
    expect(response.status).toBe(200);
    expect(hookFinished).toBe(true);
  });

  it('answers 500 InternalError when onObjectCreated throws', async () => {
    onCreated = async () => {
      throw new Error('queue unavailable');
    };
    const response = await put(await presignPut('photos/hook-fails.jpg'), 'x');
    expect(response.status).toBe(500);
    expect(await errorCode(response)).toBe('InternalError');
  });

  it.each([
    ['a tampered signature', (url: URL) => url.searchParams.set('X-Amz-Signature', flipLastHex(url.searchParams.get('X-Amz-Signature')!))],
    ['a tampered key', (url: URL) => (url.pathname = url.pathname.replace('tamper.jpg', 'tampered.jpg'))],
    ['a changed X-Amz-Expires', (url: URL) => url.searchParams.set('X-Amz-Expires', '3600')],
    ['an added query parameter', (url: URL) => url.searchParams.set('x-amz-acl', 'public-read')],
    ['a changed credential scope date', (url: URL) => url.searchParams.set('X-Amz-Date', shiftSeconds(url.searchParams.get('X-Amz-Date')!))],
  ])('refuses %s with 403 SignatureDoesNotMatch', async (_name, tamper) => {
    const url = new URL(await presignPut('photos/tamper.jpg'));
    tamper(url);
    const response = await put(url.toString(), 'x');
    expect(response.status).toBe(403);
    expect(await errorCode(response)).toBe('SignatureDoesNotMatch');
    expect(created).toHaveLength(0);
  });

  it('refuses a Content-Type other than the signed one', async () => {
    const url = await presignPut('photos/typed.jpg', { contentType: 'image/jpeg' });
    const response = await put(url, 'x', { 'content-type': 'image/png' });
    expect(response.status).toBe(403);
    expect(await errorCode(response)).toBe('SignatureDoesNotMatch');
    expect(await objectExists('photos/typed.jpg')).toBe(false);
  });

  it('refuses an expired URL with 403 AccessDenied', async () => {
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    const url = await presignPut('photos/expired.jpg', { expiresIn: 60, signingDate: twoMinutesAgo });
    const response = await put(url, 'x');
    expect(response.status).toBe(403);
    const text = await response.text();
    expect(text).toContain('<Code>AccessDenied</Code>');
    expect(text).toContain('Request has expired');
  });

  it('accepts a URL that is old but not yet expired', async () => {
    const url = await presignPut('photos/old-but-valid.jpg', { expiresIn: 600, signingDate: new Date(Date.now() - 120_000) });
    expect((await put(url, 'x')).status).toBe(200);
  });

  it('refuses X-Amz-Expires over 7 days as invalid', async () => {
    const url = new URL(await presignPut('photos/week.jpg'));
    url.searchParams.set('X-Amz-Expires', String(7 * 24 * 3600 + 1));
    const response = await put(url.toString(), 'x');
    expect(response.status).toBe(400);
    expect(await errorCode(response)).toBe('AuthorizationQueryParametersError');
  });

  it('refuses x-amz-* headers that were not signed', async () => {
    const url = await presignPut('photos/smuggled.jpg');
    const response = await put(url, '', { 'content-type': 'image/jpeg', 'x-amz-copy-source': `${BUCKET}/photos/cat one+two.jpg` });
    expect(response.status).toBe(403);
    expect(await errorCode(response)).toBe('AccessDenied');
    expect(await objectExists('photos/smuggled.jpg')).toBe(false);
  });

  it('rejects, like real S3, the empty-body CRC32 that default SDK settings presign', async () => {
    const command = new PutObjectCommand({ Bucket: BUCKET, Key: 'photos/default-presigner.jpg' });
    const url = await getSignedUrl(client(), command, { expiresIn: 300 });
    expect(url).toContain('x-amz-checksum-crc32=');
    const response = await put(url, 'not empty', {});
    expect(response.status).toBe(400);
    expect(await errorCode(response)).toBe('BadDigest');
    expect(created).toHaveLength(0);
  });
});

describe('authentication failures', () => {
  it('refuses a request without authentication with 403 AccessDenied', async () => {
    const response = await fetch(`${server.url}/${BUCKET}/photos/cat%20one%2Btwo.jpg`);
    expect(response.status).toBe(403);
    expect(await errorCode(response)).toBe('AccessDenied');
  });

  it('refuses an unknown access key with 403 InvalidAccessKeyId', async () => {
    const stranger = client({ credentials: { accessKeyId: 'AKIASTRANGER', secretAccessKey: CREDENTIALS.secretAccessKey } });
    await expect(stranger.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'any' }))).rejects.toMatchObject({
      name: 'InvalidAccessKeyId',
      $metadata: { httpStatusCode: 403 },
    });
  });

  it('refuses a client with the wrong secret key with 403 SignatureDoesNotMatch', async () => {
    const impostor = client({ credentials: { accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: 'wrong-secret' } });
    await expect(impostor.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'impostor.txt', Body: 'x' }))).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
      $metadata: { httpStatusCode: 403 },
    });
    expect(await objectExists('impostor.txt')).toBe(false);
  });

  it('refuses a body that differs from the signed x-amz-content-sha256', async () => {
    const headers = await signHeaders('PUT', '/uploads/swapped.txt', { 'content-length': '5' }, 'hello');
    const response = await fetch(`${server.url}/${BUCKET}/swapped.txt`, { method: 'PUT', headers, body: 'HELLO' });
    expect(response.status).toBe(400);
    expect(await errorCode(response)).toBe('XAmzContentSHA256Mismatch');
    expect(await objectExists('swapped.txt')).toBe(false);
  });
});

describe('SDK operations through the normal client', () => {
  it.each([
    ['default checksum settings', {}],
    ['WHEN_REQUIRED checksum settings', { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }],
  ] as const)('put, head, get, list and delete work with %s', async (_name, config) => {
    const s3 = client(config);
    const key = `sdk/${_name.replace(/\W+/g, '-')}.txt`;
    const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'hello sdk', ContentType: 'text/plain' }));
    expect(put.$metadata.httpStatusCode).toBe(200);
    expect(created.map((record) => record.key)).toEqual([key]);

    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.ContentLength).toBe(9);
    expect(head.ContentType).toBe('text/plain');

    const get = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(await get.Body!.transformToString()).toBe('hello sdk');

    const list = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'sdk/' }));
    expect(list.Contents?.map((object) => object.Key)).toContain(key);

    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(await objectExists(key)).toBe(false);
  });

  it('serves stored objects in-process to other stand-ins (readObject), and rejects missing ones', async () => {
    const bytes = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));
    await client().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'internal/read.bin', Body: bytes }));
    expect(Buffer.compare(await server.readObject(BUCKET, 'internal/read.bin'), bytes)).toBe(0);
    await expect(server.readObject(BUCKET, 'internal/missing.bin')).rejects.toThrow(/no object/);
    await expect(server.readObject('no-such-bucket', 'internal/read.bin')).rejects.toThrow();
  });

  it("counts an in-process read as the GET S3 bills the bucket's owner for (Rekognition reading an S3Object)", async () => {
    await client().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'internal/billed.bin', Body: 'image' }));
    const before = meter.snapshot().s3;
    await server.readObject(BUCKET, 'internal/billed.bin');
    expect(meter.snapshot().s3).toEqual({ ...before, getClass: before.getClass + 1 });
  });

  it('stores small bodies (verified in memory) and large ones (through a spool file) byte for byte', async () => {
    for (const size of [1, 1024 * 1024, 1024 * 1024 + 1, 3 * 1024 * 1024]) {
      const bytes = Buffer.from(Array.from({ length: size }, (_, i) => (i * 7) % 256));
      await client().send(new PutObjectCommand({ Bucket: BUCKET, Key: `sizes/${size}.bin`, Body: bytes }));
      expect(Buffer.compare(await server.readObject(BUCKET, `sizes/${size}.bin`), bytes), `${size} bytes`).toBe(0);
    }
  });

  // The SDK sends a stream it cannot measure as aws-chunked; nothing of the product uploads that way.
  it('refuses a streamed (aws-chunked) upload with 501 NotImplemented naming the header, and stores nothing', async () => {
    const chunks = [Buffer.alloc(70_000, 'a'), Buffer.from('tail')];
    const upload = client().send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'sdk/streamed.bin', Body: Readable.from(chunks), ContentLength: 70_004 }),
    );
    await expect(upload).rejects.toMatchObject({ name: 'NotImplemented', $metadata: { httpStatusCode: 501 } });
    await expect(upload).rejects.toThrow(/aws-chunked/);
    expect(created).toEqual([]);
    expect(await objectExists('sdk/streamed.bin')).toBe(false);
  });
});

describe('reads answered as S3 answers them', () => {
  const statusOf = (error: unknown) => (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

  it('answers a Range on an empty object with 416 InvalidRange (s3rver would hang the client)', async () => {
    await client().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'reads/empty.bin', Body: new Uint8Array(0) }));
    const error = await client({ requestHandler: { requestTimeout: 5_000, throwOnRequestTimeout: true } })
      .send(new GetObjectCommand({ Bucket: BUCKET, Key: 'reads/empty.bin', Range: 'bytes=0-16383' }))
      .then(() => undefined, (caught: unknown) => caught);
    expect(statusOf(error)).toBe(416);
    expect((error as Error).name).toBe('InvalidRange');
    // The whole empty object is still an empty 200, and the same connection pool keeps working.
    expect(await readObject('reads/empty.bin')).toBe('');
    const ranged = await client().send(new GetObjectCommand({ Bucket: BUCKET, Key: 'reads/empty.bin', Range: 'bytes=0-16383' })).catch(() => 'refused');
    expect(ranged).toBe('refused');
  });

  it('still answers a Range on a non-empty object with 206', async () => {
    await client().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'reads/ten.bin', Body: '0123456789' }));
    const get = await client().send(new GetObjectCommand({ Bucket: BUCKET, Key: 'reads/ten.bin', Range: 'bytes=0-16383' }));
    expect(get.ContentRange).toBe('bytes 0-9/10');
    expect(await get.Body!.transformToString()).toBe('0123456789');
  });

  it('honours If-Match: the object whose ETag matches, or 412 PreconditionFailed', async () => {
    const put = await client().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'reads/tagged.bin', Body: 'first' }));
    const etag = put.ETag!;
    const get = await client().send(new GetObjectCommand({ Bucket: BUCKET, Key: 'reads/tagged.bin', IfMatch: etag }));
    expect(await get.Body!.transformToString()).toBe('first');
    const unquoted = await client().send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'reads/tagged.bin', IfMatch: etag.replace(/"/g, '') }));
    expect(unquoted.ContentLength).toBe(5);

    await client().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'reads/tagged.bin', Body: 'second' }));
    const stale = await client()
      .send(new GetObjectCommand({ Bucket: BUCKET, Key: 'reads/tagged.bin', IfMatch: etag, Range: 'bytes=0-3' }))
      .then(() => undefined, (caught: unknown) => caught);
    expect(statusOf(stale)).toBe(412);
    expect((stale as Error).name).toBe('PreconditionFailed');
    const staleHead = await client()
      .send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'reads/tagged.bin', IfMatch: etag }))
      .then(() => undefined, (caught: unknown) => caught);
    expect(statusOf(staleHead)).toBe(412);
  });
});

describe('limits and persistence', () => {
  it('refuses a body larger than maxObjectBytes with 400 EntityTooLarge', async () => {
    await server.close();
    server = await start({ maxObjectBytes: 8 });
    try {
      const tooBig = await put(await presignPut('photos/too-big.jpg'), '123456789');
      expect(tooBig.status).toBe(400);
      expect(await errorCode(tooBig)).toBe('EntityTooLarge');
      const fits = await put(await presignPut('photos/fits.jpg'), '12345678');
      expect(fits.status).toBe(200);
      expect(created.map((record) => record.key)).toEqual(['photos/fits.jpg']);
    } finally {
      await server.close();
      server = await start();
    }
  });

  it('keeps objects across a restart on the same directory', async () => {
    expect((await put(await presignPut('photos/durable.jpg'), 'still here')).status).toBe(200);
    await server.close();
    server = await start();
    expect(await readObject('photos/durable.jpg')).toBe('still here');
  });
});

/** Authorization-header SigV4 signing with the library the SDK uses, for requests the SDK will not make. */
async function signHeaders(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Record<string, string>> {
  const url = new URL(server.url);
  const signer = new SignatureV4({ service: 's3', region: REGION, credentials: CREDENTIALS, sha256: NodeSha256, uriEscapePath: false });
  const signed = await signer.sign({
    method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path,
    query: {},
    headers: { host: url.host, ...headers },
    body,
  });
  return signed.headers;
}

function flipLastHex(hex: string): string {
  return hex.slice(0, -1) + (hex.endsWith('0') ? '1' : '0');
}

function shiftSeconds(longDate: string): string {
  const seconds = Number(longDate.slice(13, 15));
  return `${longDate.slice(0, 13)}${String((seconds + 1) % 60).padStart(2, '0')}Z`;
}
