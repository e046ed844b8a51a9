import { createHash } from 'node:crypto';
import http from 'node:http';
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
import { awsChunkedDecoder } from '../s3/aws-chunked.ts';
import { parseRequestTarget } from '../s3/request-target.ts';
import { startS3, type ObjectCreated, type RunningS3, type StartS3Options } from '../s3/server.ts';
import { NodeSha256, authenticate, type Authenticated, type SignedRequest } from '../s3/sigv4.ts';

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

  it('stores small bodies (verified in memory) and large ones (through a spool file) byte for byte', async () => {
    for (const size of [1, 1024 * 1024, 1024 * 1024 + 1, 3 * 1024 * 1024]) {
      const bytes = Buffer.from(Array.from({ length: size }, (_, i) => (i * 7) % 256));
      await client().send(new PutObjectCommand({ Bucket: BUCKET, Key: `sizes/${size}.bin`, Body: bytes }));
      expect(Buffer.compare(await server.readObject(BUCKET, `sizes/${size}.bin`), bytes), `${size} bytes`).toBe(0);
    }
  });

  it('accepts a streamed aws-chunked upload and checks its trailing CRC32', async () => {
    const chunks = [Buffer.alloc(70_000, 'a'), Buffer.from('tail')];
    await client().send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'sdk/streamed.bin', Body: Readable.from(chunks), ContentLength: 70_004 }),
    );
    expect(created[0]).toMatchObject({ key: 'sdk/streamed.bin', size: 70_004 });
    expect(await readObject('sdk/streamed.bin')).toBe(Buffer.concat(chunks).toString());
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
      // Discovered mid-stream: the aws-chunked body holds more than it announced.
      const body = Buffer.concat([Buffer.from('400000\r\n'), Buffer.alloc(0x400000, 1), Buffer.from('\r\n0\r\n\r\n')]);
      const headers = await signHeaders('PUT', `/${BUCKET}/photos/lying.bin`, {
        'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': '4',
        'content-length': String(body.length),
      });
      const lying = await rawRequest('PUT', `/${BUCKET}/photos/lying.bin`, headers, body);
      expect(lying.status).toBe(400);
      expect(lying.text).toContain('<Code>EntityTooLarge</Code>');
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

// AWS's published example of a SigV4 streaming (signed aws-chunked) upload:
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
// (the same vectors, trailer included, are in awslabs/aws-crt-swift ChunkSignerTests).
describe('signed aws-chunked bodies (AWS example vectors)', () => {
  const example = {
    credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    seed: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
    chunks: [
      { size: 65536, signature: 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648' },
      { size: 1024, signature: '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497' },
      { size: 0, signature: 'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9' },
    ],
    trailerSignature: 'df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6c',
  };

  function exampleRequest(signature: string): SignedRequest {
    const headers: Record<string, string> = {
      host: 's3.amazonaws.com',
      'x-amz-date': '20130524T000000Z',
      'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      authorization: `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class, Signature=${signature}`,
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      'content-encoding': 'aws-chunked',
      'content-length': '66824',
      'x-amz-decoded-content-length': '66560',
    };
    return {
      method: 'PUT',
      target: parseRequestTarget('/examplebucket/chunkObject.txt'),
      headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    };
  }

  function authenticateExample(signature = example.seed): Promise<Authenticated> {
    return authenticate(exampleRequest(signature), {
      credentials: example.credentials,
      region: 'us-east-1',
      now: new Date('2013-05-24T00:01:00Z'),
    });
  }

  function exampleBody(corruptAt?: number): Buffer {
    const parts = example.chunks.map(({ size, signature }) => {
      const data = Buffer.alloc(size, 'a');
      return Buffer.concat([Buffer.from(`${size.toString(16)};chunk-signature=${signature}\r\n`), data, Buffer.from('\r\n')]);
    });
    const body = Buffer.concat(parts);
    if (corruptAt !== undefined) body[corruptAt] = 'b'.charCodeAt(0);
    return body;
  }

  async function decodeExample(body: Buffer): Promise<Buffer> {
    const auth = await authenticateExample();
    const decode = awsChunkedDecoder({
      verification: { signer: auth.signer, seedSignature: auth.signature, scope: auth.scope, signedTrailer: false },
      onTrailer: () => undefined,
    });
    const pieces: Buffer[] = [];
    for await (const piece of decode(Readable.from([body.subarray(0, 1000), body.subarray(1000)]))) pieces.push(piece);
    return Buffer.concat(pieces);
  }

  it('verifies the seed signature of the example request', async () => {
    const auth = await authenticateExample();
    expect(auth.payload).toEqual({ kind: 'aws-chunked', signedChunks: true, signedTrailer: false });
  });

  it('refuses the example request with a different seed signature', async () => {
    await expect(authenticateExample(flipLastHex(example.seed))).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
  });

  it('decodes the example body while verifying every chunk signature', async () => {
    const decoded = await decodeExample(exampleBody());
    expect(decoded.equals(Buffer.alloc(66560, 'a'))).toBe(true);
  });

  it('refuses the example body when a data byte was changed', async () => {
    await expect(decodeExample(exampleBody(5000))).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
  });

  it('computes the example trailer signature', async () => {
    const auth = await authenticateExample();
    const trailerHash = createHash('sha256').update('first:1st\nsecond:2nd\nthird:3rd\n').digest('hex');
    const finalChunkSignature = example.chunks[2]!.signature;
    expect(await auth.signer.trailerSignature(finalChunkSignature, trailerHash, auth.scope)).toBe(example.trailerSignature);
  });
});

/**
 * node:http rather than fetch: it reports a connection reset even after the
 * response arrived, which is how an unread request body shows up.
 */
function rawRequest(method: string, path: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; text: string }> {
  // Keep-alive, so that the server has no reason to hang up on the client.
  const agent = new http.Agent({ keepAlive: true });
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    let result = { status: 0, text: '' };
    const request = http.request(`${server.url}${path}`, { method, headers, agent }, (response) => {
      response.setEncoding('utf8');
      response.on('data', (text: string) => (result = { status: response.statusCode ?? 0, text: result.text + text }));
      response.on('end', () => (result = { ...result, status: response.statusCode ?? 0 }));
    });
    request.on('error', reject);
    request.on('close', () => resolve(result));
    request.end(body);
  }).finally(() => agent.destroy());
}

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
