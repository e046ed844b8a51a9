// A browser uploads to the presigned URL from the page's origin, so the bucket must answer CORS as
// S3 does from its CorsConfiguration: the local S3 takes the rules from template.yaml.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3, type RunningS3 } from '../../local/s3/server.ts';
import { loadTestTemplate } from '../support/template.ts';

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'AKIALOCALTEST', secretAccessKey: 'local-secret-key' };
const ORIGIN = 'http://127.0.0.1:3000';
const uploadBucket = loadTestTemplate().buckets.find((bucket) => bucket.logicalId === 'UploadBucket')!;
const PLAIN = 'no-cors-bucket';

let directory: string;
let server: RunningS3;
beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'local-s3-cors-'));
  server = await startS3({
    directory,
    buckets: [uploadBucket.name, PLAIN],
    cors: { [uploadBucket.name]: uploadBucket.corsRules },
    credentials: CREDENTIALS,
    region: REGION,
  });
});
afterAll(async () => {
  await server?.close();
  rmSync(directory, { recursive: true, force: true });
});

const preflight = (bucket: string, method: string) =>
  fetch(`${server.url}/${bucket}/uploads/x`, {
    method: 'OPTIONS',
    headers: { origin: ORIGIN, 'access-control-request-method': method, 'access-control-request-headers': 'content-type' },
  });

describe('local S3 CORS, from the template', () => {
  it("reads the upload bucket's CorsRules from template.yaml", () => {
    expect(uploadBucket.corsRules).toEqual([{ allowedMethods: ['PUT'], allowedOrigins: ['*'], allowedHeaders: ['*'], exposedHeaders: [], maxAgeSeconds: 3600 }]);
  });

  it('answers a preflight for a PUT with content-type, unauthenticated, as the rules allow', async () => {
    const response = await preflight(uploadBucket.name, 'PUT');
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-methods')).toBe('PUT');
    expect(response.headers.get('access-control-allow-headers')).toBe('content-type');
  });

  it('refuses a preflight for a method no rule allows, and any on a bucket without CORS', async () => {
    expect((await preflight(uploadBucket.name, 'DELETE')).status).toBe(403);
    expect((await preflight(PLAIN, 'PUT')).status).toBe(403);
  });

  it("puts the CORS headers on the presigned PUT's answer", async () => {
    // As the API presigns (shared/aws.ts): no checksum of an empty body in the URL.
    const s3 = new S3Client({ endpoint: server.url, forcePathStyle: true, region: REGION, credentials: CREDENTIALS, requestChecksumCalculation: 'WHEN_REQUIRED' });
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: uploadBucket.name, Key: 'uploads/cat', ContentType: 'image/png' }), {
      signableHeaders: new Set(['content-type']),
    });
    const response = await fetch(url, { method: 'PUT', body: new Uint8Array([1, 2, 3]), headers: { 'content-type': 'image/png', origin: ORIGIN } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    s3.destroy();
  });
});
