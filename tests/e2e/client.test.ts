// The published client package (@image-labeling/client, as a user installs it) against the
// local stack: labelImage end to end, and each kind of failure as its own error class.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import {
  ImageLabelingClient,
  LabelingTimeoutError,
  NetworkError,
  ProblemError,
  UploadError,
  type LabelingProgress,
} from '@image-labeling/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStackProcess, type StackProcess } from '../support/stack-process.ts';

const fixtures = new URL('../fixtures/', import.meta.url);

let stack: StackProcess;
let client: ImageLabelingClient;
/** Every request the client made, as sent (a pass-through recorder around the real fetch). */
const sent: { method: string; url: string; headers: Headers }[] = [];
beforeAll(async () => {
  stack = await startStackProcess();
  client = new ImageLabelingClient({
    baseUrl: `${stack.apiUrl}/`,
    apiKey: 'key-for-the-test',
    fetch: (input, init) => {
      const request = input instanceof Request ? input : undefined;
      sent.push({
        method: init?.method ?? request?.method ?? 'GET',
        url: request?.url ?? String(input),
        headers: new Headers(init?.headers ?? request?.headers),
      });
      return fetch(input, init);
    },
  });
});
afterAll(async () => {
  await stack?.stop();
});

describe('labelImage', () => {
  it('labels a photo from a path: creates, uploads with its Content-Type, waits for the end', async () => {
    const progress: LabelingProgress['stage'][] = [];
    const blob = await client.labelImage(new URL('chelsea.png', fixtures), {
      max_labels: 3,
      onProgress: ({ stage }) => progress.push(stage),
    });
    expect(blob.invocation_status).toBe('COMPLETED');
    expect(blob.labels).toContain('Cat');
    expect(blob.labels!.length).toBeLessThanOrEqual(3);
    // The type came from the bytes and was bound into the upload URL.
    expect(blob).toMatchObject({ content_type: 'image/png', max_labels: 3, image: { content_type: 'image/png' } });
    expect(progress.slice(0, 2)).toEqual(['created', 'uploaded']);
    expect(progress.at(-1)).toBe('polled');
    const upload = sent.find((request) => request.method === 'PUT' && request.url.includes(blob.blob_id))!;
    expect(upload.headers.get('content-type')).toBe('image/png');
    // The key goes to the API only: a presigned URL carries its own signature.
    expect(upload.headers.get('authorization')).toBeNull();
    const create = sent.find((request) => request.method === 'POST')!;
    expect(create.url).toBe(`${stack.apiUrl}/blobs`);
    expect(create.headers.get('authorization')).toBe('Bearer key-for-the-test');
  });

  it('labels JPEG bytes, sent as image/jpeg', async () => {
    const blob = await client.labelImage(new Uint8Array(readFileSync(new URL('people.jpg', fixtures))));
    expect(blob).toMatchObject({ invocation_status: 'COMPLETED', content_type: 'image/jpeg', image: { content_type: 'image/jpeg' } });
    expect(blob.labels).toContain('Person');
  });

  it('resolves with the FAILED blob for bytes that are no image: a result, not an exception', async () => {
    const blob = await client.labelImage(new Blob(['just some text']));
    expect(blob.invocation_status).toBe('FAILED');
    expect(blob.failure?.code).toBe('INVALID_IMAGE_FORMAT');
    expect(blob.content_type).toBeUndefined();
  });

  it('stops when its signal is aborted, with the signal reason', async () => {
    const controller = new AbortController();
    const reason = new Error('the user gave up');
    const labeling = client.labelImage(readFileSync(new URL('horse.png', fixtures)), {
      signal: controller.signal,
      onProgress: ({ stage }) => stage === 'created' && controller.abort(reason),
    });
    await expect(labeling).rejects.toBe(reason);
  });
});

describe('waitForBlob', () => {
  it('gives up with a LabelingTimeoutError naming the blob and where it stood', async () => {
    const blob = await client.createBlob(); // never uploaded: stays ACTION_REQUIRED for 15 minutes
    const error = await client.waitForBlob(blob.blob_id, { timeoutMs: 300 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LabelingTimeoutError);
    expect(error).toMatchObject({ blobId: blob.blob_id, lastStatus: 'ACTION_REQUIRED', timeoutMs: 300 });
  });
});

describe('errors', () => {
  it('turns problem+json answers into ProblemError with the API explanation', async () => {
    const notFound = await client.getBlob('01JD8Y7N3Q4W5E6R7T8Y9V0K1P').catch((caught: unknown) => caught);
    expect(notFound).toBeInstanceOf(ProblemError);
    expect(notFound).toMatchObject({ status: 404, title: 'Not Found' });

    const invalid = await client.createBlob({ max_labels: 500 }).catch((caught: unknown) => caught);
    expect(invalid).toBeInstanceOf(ProblemError);
    const problem = invalid as ProblemError;
    expect(problem.status).toBe(400);
    expect(problem.errors).toContainEqual(expect.objectContaining({ pointer: '#/max_labels' }));
    expect(problem.message).toContain('400 Bad Request');
  });

  it('says which upload was refused when the storage says no (UploadError)', async () => {
    const blob = await client.createBlob({ content_type: 'image/png' });
    const tampered = { ...blob, upload_url: blob.upload_url!.replace(/X-Amz-Signature=[0-9a-f]+/, `X-Amz-Signature=${'0'.repeat(64)}`) };
    const error = await client.uploadImage(tampered, readFileSync(new URL('horse.png', fixtures))).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UploadError);
    expect(error).toMatchObject({ blobId: blob.blob_id, status: 403 });
    expect((error as UploadError).message).toContain('SignatureDoesNotMatch');
  });

  it('reports an API that cannot be reached as a NetworkError with the reason', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const unreachable = new ImageLabelingClient({ baseUrl: `http://127.0.0.1:${closedPort}` });
    const error = await unreachable.listBlobs().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).message).toBe(`cannot reach http://127.0.0.1:${closedPort}: connect ECONNREFUSED 127.0.0.1:${closedPort}`);
  });
});

describe('the raw calls', () => {
  it('lists and reads event logs through the typed methods', async () => {
    const blob = await client.labelImage(new URL('horse.png', fixtures));
    const log = await client.getBlobEvents(blob.blob_id);
    expect(log.events.map((event) => event.type)).toEqual(['BlobCreated', 'BlobUploaded', 'BlobLabeled']);
    const { data } = await client.raw.GET('/blobs/{blob_id}', { params: { path: { blob_id: blob.blob_id } } });
    expect(data?.invocation_status).toBe('COMPLETED');
  });
});
