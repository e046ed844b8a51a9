// A blob never uploaded reaches an end too: EXPIRED, after its upload URL expired plus a
// grace period. Here with a 1 s URL, a 1 s grace and a sweep every second.
import { readFileSync } from 'node:fs';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, localCredentials, startStackProcess, waitForStatus, type StackProcess } from '../support/stack-process.ts';

const horse = readFileSync(new URL('../fixtures/horse.png', import.meta.url));
let stack: StackProcess;
beforeAll(async () => {
  stack = await startStackProcess({
    env: { UPLOAD_URL_TTL_SECONDS: '1', EXPIRY_GRACE_SECONDS: '1', SCHEDULE_INTERVAL_SECONDS: '1', RETAIN_UPLOADS: 'true' },
  });
});
afterAll(async () => {
  await stack?.stop();
});

describe('expiry', () => {
  it('marks the blob EXPIRED with a BlobExpired event, and refuses its expired URL with 403', async () => {
    const { data: blob } = await stack.api.POST('/blobs', {});
    // upload_expires_on is when the URL really stops working: its signature's date (whole
    // seconds) plus its X-Amz-Expires, not requested_on plus the TTL (up to a second later).
    const url = new URL(blob!.upload_url!);
    const signedAt = Date.parse(url.searchParams.get('X-Amz-Date')!.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
    expect(Date.parse(blob!.upload_expires_on!)).toBe(signedAt + Number(url.searchParams.get('X-Amz-Expires')) * 1000);
    expect(Date.parse(blob!.upload_expires_on!)).toBeGreaterThanOrEqual(Date.parse(blob!.requested_on) + 1000);
    const expired = await waitForStatus(stack, blob!.blob_id, ['EXPIRED'], 15_000);
    // A blob expires only a grace period after its URL did: the URL is refused by now.
    const put = await fetch(blob!.upload_url!, { method: 'PUT', body: horse, headers: { 'content-type': 'image/png' } });
    expect(put.status).toBe(403);
    expect(await put.text()).toContain('expired');
    expect(expired.upload_url).toBeUndefined();
    expect(Date.parse(expired.expired_on!)).toBeGreaterThanOrEqual(Date.parse(blob!.upload_expires_on!) + 1000);
    const { data } = await stack.api.GET('/blobs/{blob_id}/events', { params: { path: { blob_id: blob!.blob_id } } });
    expect(data!.events.map((event) => event.type)).toEqual(['BlobCreated', 'BlobExpired']);
    expect(data!.events[1]!.data).toEqual({ upload_expired_at: blob!.upload_expires_on });
    const listed = await eventually(async () => {
      const response = await fetch(`${stack.apiUrl}/blobs?status=EXPIRED`);
      const page = (await response.json()) as { items: { blob_id: string }[] };
      return page.items.some((item) => item.blob_id === blob!.blob_id);
    });
    expect(listed).toBe(true);
  });

  it('does not wake an expired blob with a late upload', async () => {
    const { data: blob } = await stack.api.POST('/blobs', {});
    await waitForStatus(stack, blob!.blob_id, ['EXPIRED'], 15_000);
    // Someone with bucket access writes the object anyway: the notification still arrives.
    const s3 = new S3Client({ endpoint: stack.endpoints.s3, forcePathStyle: true, region: 'us-east-1', credentials: localCredentials });
    await s3.send(new PutObjectCommand({ Bucket: 'image-labeling-uploadbucket', Key: `uploads/${blob!.blob_id}`, Body: horse }));
    await eventually(async () => stack.logs().some((line) => line.blob_id === blob!.blob_id && line.message === 'upload ignored'));
    const { data } = await stack.api.GET('/blobs/{blob_id}', { params: { path: { blob_id: blob!.blob_id } } });
    expect(data!.invocation_status).toBe('EXPIRED');
    expect(data!.labels).toBeUndefined();
  });

  it('never expires a blob whose image arrived in time, and keeps the image when retention is on', async () => {
    const { data: blob } = await stack.api.POST('/blobs', {});
    const put = await fetch(blob!.upload_url!, { method: 'PUT', body: horse, headers: { 'content-type': 'image/png' } });
    expect(put.status).toBe(200);
    await waitForStatus(stack, blob!.blob_id, ['COMPLETED']);
    // Sweeps have run past this blob's expiry once one has expired a blob created after it.
    const { data: later } = await stack.api.POST('/blobs', {});
    await waitForStatus(stack, later!.blob_id, ['EXPIRED'], 15_000);
    const { data } = await stack.api.GET('/blobs/{blob_id}', { params: { path: { blob_id: blob!.blob_id } } });
    expect(data!.invocation_status).toBe('COMPLETED');
    const s3 = new S3Client({ endpoint: stack.endpoints.s3, forcePathStyle: true, region: 'us-east-1', credentials: localCredentials });
    const kept = await s3.send(new GetObjectCommand({ Bucket: 'image-labeling-uploadbucket', Key: `uploads/${blob!.blob_id}` }));
    expect((await kept.Body!.transformToByteArray()).length).toBe(horse.length);
  });
});

describe('a labeling that never reports back', () => {
  it('is recorded LABELING_FAILED by the sweep after the timeout', async () => {
    // Rekognition never answers: the labeler hangs until its own timeout, far beyond 1 s.
    const slow = await startStackProcess({
      env: { LOCAL_REKOGNITION_FAULT: 'hang', LABELING_TIMEOUT_SECONDS: '1', SCHEDULE_INTERVAL_SECONDS: '1' },
    });
    try {
      const { data: blob } = await slow.api.POST('/blobs', {});
      await fetch(blob!.upload_url!, { method: 'PUT', body: horse, headers: { 'content-type': 'image/png' } });
      const failed = await waitForStatus(slow, blob!.blob_id, ['FAILED']);
      expect(failed.failure).toEqual({ code: 'LABELING_FAILED', message: 'Labeling did not finish within 1 s of the upload.' });
      const { data } = await slow.api.GET('/blobs/{blob_id}/events', { params: { path: { blob_id: blob!.blob_id } } });
      expect(data!.events.map((event) => event.type)).toEqual(['BlobCreated', 'BlobUploaded', 'BlobFailed']);
    } finally {
      await slow.stop();
    }
  });
});
