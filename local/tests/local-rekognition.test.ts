/**
 * The local Rekognition stand-in, exercised through the real AWS SDK client. One server (two
 * warm detector workers) is shared by the whole file; startup costs ~2 s, each image ~0.2 s.
 *
 * Assertions only cover what the CenterNet detector really gets right on these photos
 * (scores measured: cat 47%, cup 55%, horse 60%, people up to 53%).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DetectLabelsCommand,
  ImageTooLargeException,
  InvalidImageFormatException,
  InvalidParameterException,
  InvalidS3ObjectException,
  RekognitionClient,
  ThrottlingException,
  type DetectLabelsCommandInput,
  type Label,
} from '@aws-sdk/client-rekognition';
import { startRekognitionServer, type RekognitionServer, type RekognitionServerStats } from '../rekognition/server.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../tests/fixtures');
const photo = (name: string): Promise<Buffer> => readFile(path.join(fixtures, name));

/** Pretend S3: bucket/key -> bytes. */
const s3Objects = new Map<string, Uint8Array>();

let server: RekognitionServer;
let client: RekognitionClient;
let images: Record<'cat' | 'people' | 'horse' | 'coffee', Buffer>;

function newClient(maxAttempts = 3): RekognitionClient {
  return new RekognitionClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts,
  });
}

async function detect(input: DetectLabelsCommandInput): Promise<Label[]> {
  const out = await client.send(new DetectLabelsCommand(input));
  expect(out.LabelModelVersion).toBe('centernet-coco80 (local)');
  return out.Labels ?? [];
}

function find(labels: Label[], name: string): Label | undefined {
  return labels.find((l) => l.Name === name);
}

function names(labels: Label[]): string[] {
  return labels.map((l) => l.Name ?? '');
}

async function rejection(input: DetectLabelsCommandInput): Promise<unknown> {
  return client.send(new DetectLabelsCommand(input)).then(
    () => expect.fail('expected DetectLabels to fail'),
    (error: unknown) => error,
  );
}

async function localStats(): Promise<RekognitionServerStats> {
  const res = await fetch(`${server.url}/_local/stats`);
  expect(res.status).toBe(200);
  return (await res.json()) as RekognitionServerStats;
}

async function rawCall(target: string, body: string): Promise<{ status: number; type: string | null; json: Record<string, unknown> }> {
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { 'x-amz-target': target, 'content-type': 'application/x-amz-json-1.1' },
    body,
  });
  return { status: res.status, type: res.headers.get('x-amzn-errortype'), json: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  server = await startRekognitionServer({
    workers: 2,
    // Small on purpose so the throttling test can overflow it; the other tests are sequential.
    maxQueue: 2,
    readS3Object: async (bucket, key) => {
      const bytes = s3Objects.get(`${bucket}/${key}`);
      if (!bytes) throw new Error(`NoSuchKey: ${bucket}/${key}`);
      return bytes;
    },
  });
  client = newClient();
  const [cat, people, horse, coffee] = await Promise.all(
    ['chelsea.png', 'people.jpg', 'horse.png', 'coffee.png'].map(photo),
  );
  images = { cat: cat!, people: people!, horse: horse!, coffee: coffee! };
}, 60_000);

afterAll(async () => {
  client?.destroy();
  await server?.close();
});

describe('DetectLabels on real photos', () => {
  it('finds the cat, with Rekognition-style parents and a box around it', async () => {
    const labels = await detect({ Image: { Bytes: images.cat } });
    const cat = find(labels, 'Cat');
    expect(cat, `labels were ${names(labels).join(', ')}`).toBeDefined();
    expect(names(cat!.Parents ?? [])).toEqual(expect.arrayContaining(['Animal', 'Pet', 'Mammal']));
    expect(cat!.Categories).toEqual([{ Name: 'Animals and Pets' }]);
    expect(cat!.Aliases).toEqual([]);

    // Chelsea fills the frame except a strip of background on the right.
    expect(cat!.Instances).toHaveLength(1);
    const box = cat!.Instances![0]!.BoundingBox!;
    expect(box.Left!).toBeLessThan(0.1);
    expect(box.Top!).toBeLessThan(0.1);
    expect(box.Width!).toBeGreaterThan(0.75);
    expect(box.Height!).toBeGreaterThan(0.85);
    expect(box.Left! + box.Width!).toBeLessThanOrEqual(1);
    expect(box.Top! + box.Height!).toBeLessThanOrEqual(1);

    // Parents come back as labels too: no boxes, confidence of their best child.
    for (const parent of ['Animal', 'Pet', 'Mammal']) {
      const label = find(labels, parent);
      expect(label?.Instances).toEqual([]);
      expect(label?.Confidence).toBe(cat!.Confidence);
    }
    expect(labels[0]?.Name).toBe('Cat');
    expect(names(labels)).not.toContain('Dog');
  });

  it('finds several people in the group photo', async () => {
    const labels = await detect({ Image: { Bytes: images.people } });
    const person = find(labels, 'Person');
    expect(person).toBeDefined();
    expect(person!.Instances!.length).toBeGreaterThanOrEqual(3);
    expect(person!.Confidence).toBeGreaterThan(45);
  });

  it('finds the horse', async () => {
    const labels = await detect({ Image: { Bytes: images.horse } });
    const horse = find(labels, 'Horse');
    expect(horse).toBeDefined();
    expect(names(horse!.Parents ?? [])).toEqual(expect.arrayContaining(['Animal', 'Mammal']));
    expect(labels[0]?.Name).toBe('Horse');
  });

  it('finds the cup on the coffee photo', async () => {
    const labels = await detect({ Image: { Bytes: images.coffee } });
    expect(labels[0]?.Name).toBe('Cup');
  });

  it('returns labels sorted by confidence, descending', async () => {
    const labels = await detect({ Image: { Bytes: images.coffee }, MinConfidence: 20 });
    const confidences = labels.map((l) => l.Confidence ?? 0);
    expect(confidences).toEqual([...confidences].sort((a, b) => b - a));
  });
});

describe('request parameters', () => {
  it('honours MaxLabels (children win ties with their parents)', async () => {
    expect(names(await detect({ Image: { Bytes: images.cat }, MaxLabels: 1 }))).toEqual(['Cat']);
    expect(await detect({ Image: { Bytes: images.cat }, MaxLabels: 0 })).toEqual([]);
  });

  it('honours MinConfidence in both directions', async () => {
    expect(await detect({ Image: { Bytes: images.cat }, MinConfidence: 99 })).toEqual([]);
    // The table under the cup scores ~36%: below the default (40), above an explicit 30.
    expect(names(await detect({ Image: { Bytes: images.coffee } }))).not.toContain('Dining Table');
    expect(names(await detect({ Image: { Bytes: images.coffee }, MinConfidence: 30 }))).toContain('Dining Table');
  });

  it('reads Image.S3Object through readS3Object', async () => {
    s3Objects.set('photos/uploads/horse.png', images.horse);
    const labels = await detect({ Image: { S3Object: { Bucket: 'photos', Name: 'uploads/horse.png' } } });
    expect(find(labels, 'Horse')).toBeDefined();
  });

  it('answers InvalidS3ObjectException for a missing object', async () => {
    const error = await rejection({ Image: { S3Object: { Bucket: 'photos', Name: 'missing.png' } } });
    expect(error).toBeInstanceOf(InvalidS3ObjectException);
  });
});

describe('errors the SDK raises as typed exceptions', () => {
  it('rejects a text file as InvalidImageFormatException', async () => {
    const error = await rejection({ Image: { Bytes: Buffer.from('this is a text file, not a photo\n') } });
    expect(error).toBeInstanceOf(InvalidImageFormatException);
  });

  it('rejects a truncated PNG as InvalidImageFormatException', async () => {
    const truncated = images.cat.subarray(0, Math.floor(images.cat.length / 2));
    const error = await rejection({ Image: { Bytes: truncated } });
    expect(error).toBeInstanceOf(InvalidImageFormatException);
  });

  it('rejects a 50x50 image like Rekognition does (InvalidParameterException, minimum is 80 px)', async () => {
    const tiny = await sharp({ create: { width: 50, height: 50, channels: 3, background: '#808080' } }).png().toBuffer();
    const error = await rejection({ Image: { Bytes: tiny } });
    expect(error).toBeInstanceOf(InvalidParameterException);
    expect((error as Error).message).toMatch(/80/);
  });

  it('rejects image bytes over 5 MB as ImageTooLargeException', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024 + 1);
    images.cat.copy(big, 0, 0, 64);
    const error = await rejection({ Image: { Bytes: big } });
    expect(error).toBeInstanceOf(ImageTooLargeException);
  });

  it('answers ThrottlingException once the queue is full', async () => {
    const impatient = newClient(1); // no SDK retries, so throttling surfaces
    try {
      const burst = Array.from({ length: 12 }, () =>
        impatient.send(new DetectLabelsCommand({ Image: { Bytes: images.horse } })).then(
          () => 'ok' as const,
          (error: unknown) => error,
        ),
      );
      const results = await Promise.all(burst);
      expect(results.filter((r) => r === 'ok').length).toBeGreaterThanOrEqual(4);
      expect(results.some((r) => r instanceof ThrottlingException)).toBe(true);
      expect(results.every((r) => r === 'ok' || r instanceof ThrottlingException)).toBe(true);
    } finally {
      impatient.destroy();
    }
    expect((await localStats()).pool.throttled).toBeGreaterThan(0);
  });
});

describe('protocol edges (raw HTTP)', () => {
  it('answers UnknownOperationException for other targets', async () => {
    const res = await rawCall('RekognitionService.DetectFaces', '{}');
    expect(res.status).toBe(400);
    expect(res.type).toBe('UnknownOperationException');
    expect(res.json.__type).toBe('UnknownOperationException');
  });

  it('answers SerializationException for malformed JSON', async () => {
    const res = await rawCall('RekognitionService.DetectLabels', '{"Image": ');
    expect(res.status).toBe(400);
    expect(res.json.__type).toBe('SerializationException');
    expect(typeof res.json.Message).toBe('string');
  });
});

describe('GET /_local/stats', () => {
  it('counts each DetectLabels call exactly once', async () => {
    const before = await localStats();
    await detect({ Image: { Bytes: images.horse } });
    const after = await localStats();
    expect(after.detectLabelsCalls).toBe(before.detectLabelsCalls + 1);
    expect(after.detectLabelsSucceeded).toBe(before.detectLabelsSucceeded + 1);
    expect(after.pool.inferences).toBe(before.pool.inferences + 1);
    expect(server.stats().detectLabelsCalls).toBe(after.detectLabelsCalls);
  });

  it('sums each stage of a call: S3 read, decode, inference (CPU and run-queue wait on Linux)', async () => {
    s3Objects.set('stages/horse.png', images.horse);
    const before = await localStats();
    await detect({ Image: { S3Object: { Bucket: 'stages', Name: 'horse.png' } } });
    const after = await localStats();
    const delta = (pick: (stats: RekognitionServerStats) => number) => pick(after) - pick(before);
    expect(delta((s) => s.s3Reads)).toBe(1);
    expect(delta((s) => s.pool.totals.prepared)).toBe(1);
    expect(delta((s) => s.pool.totals.inferences)).toBe(1);
    const inferenceMs = delta((s) => s.pool.totals.inferenceMs);
    expect(inferenceMs).toBeGreaterThan(0);
    // The call's own time holds the S3 read, the decode and the inference.
    expect(delta((s) => s.detectLabelsMs)).toBeGreaterThanOrEqual(
      inferenceMs + delta((s) => s.pool.totals.prepareMs) + delta((s) => s.s3ReadMs),
    );
    if (!existsSync('/proc/thread-self/schedstat')) return;
    expect(delta((s) => s.pool.totals.threadTimed)).toBe(1);
    const cpuMs = delta((s) => s.pool.totals.inferenceCpuMs);
    const waitMs = delta((s) => s.pool.totals.inferenceRunQueueMs);
    expect(cpuMs).toBeGreaterThan(0);
    expect(waitMs).toBeGreaterThanOrEqual(0);
    // Both are parts of the worker's wall time (the readings sit just outside it: 1 ms slack).
    expect(cpuMs + waitMs).toBeLessThanOrEqual(inferenceMs + 1);
  });
});
