// What a labeled blob tells its user: label details with boxes, the image's facts, the
// model; the per-blob settings honoured; and every failure code caused for real.
import { readFileSync } from 'node:fs';
import { HeadObjectCommand, NotFound, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { components } from '../../shared/generated/openapi.ts';
import { localCredentials, startStackProcess, waitForStatus, type StackProcess } from '../support/stack-process.ts';

type CreateBlobRequest = components['schemas']['CreateBlobRequest'];
const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));

let stack: StackProcess;
beforeAll(async () => {
  stack = await startStackProcess();
});
afterAll(async () => {
  await stack?.stop();
});

async function label(bytes: Buffer, contentType: string, request: CreateBlobRequest = {}) {
  const { data: blob } = await stack.api.POST('/blobs', { body: request });
  const put = await fetch(blob!.upload_url!, { method: 'PUT', body: bytes, headers: { 'content-type': contentType } });
  expect(put.status).toBe(200);
  return waitForStatus(stack, blob!.blob_id, ['COMPLETED', 'FAILED']);
}

describe('label details', () => {
  it('describes the cat: confidence, parents, a box over the cat, the image and the model', async () => {
    const photo = fixture('chelsea.png');
    const blob = await label(photo, 'image/png');
    expect(blob.invocation_status).toBe('COMPLETED');
    const cat = blob.label_details!.find((detail) => detail.name === 'Cat')!;
    expect(cat.confidence).toBeGreaterThan(0);
    expect(cat.confidence).toBeLessThanOrEqual(100);
    expect(cat.parents).toEqual(expect.arrayContaining(['Animal', 'Pet', 'Mammal']));
    expect(cat.instances.length).toBeGreaterThan(0);
    const box = cat.instances[0]!.bounding_box;
    // Chelsea fills most of the photo, face at the centre-right.
    expect(box.width * box.height).toBeGreaterThan(0.3);
    expect(box.left).toBeLessThan(0.5);
    expect(box.left + box.width).toBeGreaterThan(0.6);
    // Parents are labels too, as Rekognition reports them.
    expect(blob.labels).toEqual(expect.arrayContaining(['Cat', 'Animal', 'Pet', 'Mammal']));
    expect(blob.labels).toEqual(blob.label_details!.map((detail) => detail.name));
    expect(blob.image).toEqual({ width: 451, height: 300, content_type: 'image/png', size_bytes: photo.length });
    expect(blob.model).toMatch(/^rekognition\/centernet/);
  });

  it("finds a JPEG's size past a large EXIF-like block (the first read of its header is not enough)", async () => {
    const photo = fixture('people.jpg');
    // A 60 KB comment segment right after the start marker, where a camera puts EXIF and its thumbnail.
    const comment = Buffer.alloc(4 + 60 * 1024, 0x20);
    comment.writeUInt16BE(0xfffe, 0);
    comment.writeUInt16BE(comment.length - 2, 2);
    const padded = Buffer.concat([photo.subarray(0, 2), comment, photo.subarray(2)]);
    const blob = await label(padded, 'image/jpeg');
    expect(blob.invocation_status).toBe('COMPLETED');
    expect(blob.image).toEqual({ width: 1280, height: 1158, content_type: 'image/jpeg', size_bytes: padded.length });
  });

  it('takes the image type from the bytes, not from the Content-Type it was sent with', async () => {
    const blob = await label(fixture('people.jpg'), 'image/png');
    expect(blob.invocation_status).toBe('COMPLETED');
    expect(blob.image?.content_type).toBe('image/jpeg');
  });
});

describe('per-blob settings', () => {
  it('honours max_labels', async () => {
    const blob = await label(fixture('people.jpg'), 'image/jpeg', { max_labels: 1 });
    expect(blob.max_labels).toBe(1);
    expect(blob.labels).toHaveLength(1);
  });

  it('honours min_confidence, and "nothing found" is COMPLETED with no labels', async () => {
    const blob = await label(fixture('chelsea.png'), 'image/png', { min_confidence: 99 });
    expect(blob.min_confidence).toBe(99);
    expect(blob.invocation_status).toBe('COMPLETED');
    expect(blob.labels).toEqual([]);
  });

  it('labels a blank picture COMPLETED with an empty list', async () => {
    const blank = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#8a8a8a' } }).png().toBuffer();
    const blob = await label(blank, 'image/png');
    expect(blob.invocation_status).toBe('COMPLETED');
    expect(blob.labels).toEqual([]);
  });

  it('binds content_type into the upload URL: another Content-Type is refused', async () => {
    const { data: blob } = await stack.api.POST('/blobs', { body: { content_type: 'image/png' } });
    expect(blob!.content_type).toBe('image/png');
    const wrong = await fetch(blob!.upload_url!, { method: 'PUT', body: fixture('horse.png'), headers: { 'content-type': 'image/jpeg' } });
    expect(wrong.status).toBe(403);
    const right = await fetch(blob!.upload_url!, { method: 'PUT', body: fixture('horse.png'), headers: { 'content-type': 'image/png' } });
    expect(right.status).toBe(200);
    expect((await waitForStatus(stack, blob!.blob_id, ['COMPLETED'])).labels).toContain('Horse');
  });

  it.each([
    [{ max_labels: 0 }, 'max_labels'],
    [{ max_labels: 101 }, 'max_labels'],
    [{ min_confidence: -1 }, 'min_confidence'],
    [{ min_confidence: 100.5 }, 'min_confidence'],
    [{ content_type: 'image/gif' }, 'content_type'],
  ])('refuses %o with 400', async (body, field) => {
    const response = await fetch(`${stack.apiUrl}/blobs`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: { pointer: string }[] }).errors[0]!.pointer).toBe(`#/${field}`);
  });
});

describe('failure codes', () => {
  it('INVALID_IMAGE_FORMAT for text sent as image/png', async () => {
    const blob = await label(Buffer.from('not an image at all'), 'image/png');
    expect(blob.failure?.code).toBe('INVALID_IMAGE_FORMAT');
  });

  it('INVALID_IMAGE_FORMAT for a truncated PNG', async () => {
    const png = fixture('chelsea.png');
    const blob = await label(png.subarray(0, Math.floor(png.length * 0.6)), 'image/png');
    expect(blob.failure?.code).toBe('INVALID_IMAGE_FORMAT');
  });

  it('IMAGE_TOO_SMALL under 80 px a side', async () => {
    const tiny = await sharp({ create: { width: 79, height: 200, channels: 3, background: '#ff0000' } }).png().toBuffer();
    const blob = await label(tiny, 'image/png');
    expect(blob.failure).toMatchObject({ code: 'IMAGE_TOO_SMALL', message: expect.stringContaining('79x200') });
  });

  it('IMAGE_TOO_LARGE over 10,000 px a side', async () => {
    const wide = await sharp({ create: { width: 10_001, height: 100, channels: 3, background: '#000000' } }).png().toBuffer();
    const blob = await label(wide, 'image/png');
    expect(blob.failure).toMatchObject({ code: 'IMAGE_TOO_LARGE', message: expect.stringContaining('10001x100') });
  });

  it('IMAGE_TOO_LARGE over 15 MB', async () => {
    const header = fixture('horse.png');
    const oversized = Buffer.concat([header, Buffer.alloc(15 * 1024 * 1024 + 1 - header.length)]);
    const blob = await label(oversized, 'image/png');
    expect(blob.failure).toMatchObject({ code: 'IMAGE_TOO_LARGE', message: expect.stringContaining('bytes') });
  });
});

describe('the uploaded image', () => {
  it('is deleted once labeled', async () => {
    const { data: created } = await stack.api.POST('/blobs', {});
    const key = new URL(created!.upload_url!).pathname.split('/').slice(2).join('/');
    await fetch(created!.upload_url!, { method: 'PUT', body: fixture('horse.png'), headers: { 'content-type': 'image/png' } });
    await waitForStatus(stack, created!.blob_id, ['COMPLETED']);
    const s3 = new S3Client({ endpoint: stack.endpoints.s3, forcePathStyle: true, region: 'us-east-1', credentials: localCredentials });
    await expect(s3.send(new HeadObjectCommand({ Bucket: 'image-labeling-uploadbucket', Key: key }))).rejects.toBeInstanceOf(NotFound);
  });
});

describe('a Rekognition that keeps throttling', () => {
  it('is tried again later through the labeling queue while the labeling timeout allows, then the blob ends FAILED with LABELING_FAILED', async () => {
    const faulty = await startStackProcess({ env: { LOCAL_REKOGNITION_FAULT: 'ThrottlingException', LABELING_TIMEOUT_SECONDS: '6' } });
    try {
      const { data: blob } = await faulty.api.POST('/blobs', {});
      await fetch(blob!.upload_url!, { method: 'PUT', body: fixture('horse.png'), headers: { 'content-type': 'image/png' } });
      const done = await waitForStatus(faulty, blob!.blob_id, ['COMPLETED', 'FAILED']);
      expect(done.failure).toMatchObject({ code: 'LABELING_FAILED', message: expect.stringContaining('ThrottlingException') });
      // Each receive of the message makes the SDK's two attempts; it was received more than once.
      const retries = faulty.logs().filter((line) => line.blob_id === blob!.blob_id && line.message === 'Rekognition cannot take it now; trying again later');
      expect(retries.length).toBeGreaterThan(0);
      const stats = (await (await fetch(`${faulty.endpoints.rekognition}/_local/stats`)).json()) as { detectLabelsCalls: number };
      expect(stats.detectLabelsCalls).toBe(2 * (retries.length + 1));
    } finally {
      await faulty.stop();
    }
  });
});
