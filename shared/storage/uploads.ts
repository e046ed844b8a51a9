// Where images are uploaded: one object per blob, reached by a presigned PUT URL.
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, NoSuchKey, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3 } from '../aws/s3.ts';

const UPLOAD_PREFIX = 'uploads/';

export function uploadKey(blobId: string): string {
  return `${UPLOAD_PREFIX}${blobId}`;
}

/** The blob an uploaded object belongs to, or undefined for keys we did not hand out. */
export function blobIdOfKey(key: string): string | undefined {
  return key.startsWith(UPLOAD_PREFIX) ? key.slice(UPLOAD_PREFIX.length) : undefined;
}

/**
 * A URL that accepts a PUT of the image until `expires_at`, with that Content-Type when one is
 * set, and when it really stops working: a signature's date has whole seconds, so the URL's
 * expiry is that second plus whole seconds, which may fall before `expires_at`.
 */
export async function presignUpload(
  upload: { bucket: string; key: string; expires_at: string; content_type?: string },
  now: Date,
): Promise<{ url: string; expiresAt: string } | undefined> {
  const signingDate = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const expiresIn = Math.floor((Date.parse(upload.expires_at) - signingDate.getTime()) / 1000);
  if (expiresIn < 1) return undefined;
  const command = new PutObjectCommand({ Bucket: upload.bucket, Key: upload.key, ContentType: upload.content_type });
  // Signing the header is what makes S3 refuse an upload sent with another Content-Type.
  const url = await getSignedUrl(s3(), command, {
    expiresIn,
    signingDate,
    ...(upload.content_type && { signableHeaders: new Set(['content-type']) }),
  });
  return { url, expiresAt: new Date(signingDate.getTime() + expiresIn * 1000).toISOString() };
}

export async function deleteUpload(object: { bucket: string; key: string }): Promise<void> {
  await s3().send(new DeleteObjectCommand({ Bucket: object.bucket, Key: object.key }));
}

/** The object BlobUploaded recorded: its size, and its ETag when the notification carried one. */
export interface RecordedUpload {
  bucket: string;
  key: string;
  size_bytes: number;
  etag?: string;
}

/** Why the recorded object cannot be read: deleted, replaced by a later PUT, or empty (no range to read). */
export type UploadGone = { gone: 'missing' | 'replaced' | 'empty' };

// S3 compares entity tags, which are quoted; the notification carries the bare hex.
const quoted = (etag: string) => (etag.startsWith('"') ? etag : `"${etag}"`);

function goneOf(error: unknown): UploadGone | undefined {
  if (error instanceof NoSuchKey) return { gone: 'missing' };
  const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
  if (status === 404) return { gone: 'missing' };
  if (status === 412) return { gone: 'replaced' };
  if (status === 416) return { gone: 'empty' };
  return undefined;
}

/**
 * The recorded object's bytes (its first `firstBytes`, or all of it) and its whole size, read
 * with If-Match on the recorded ETag so that what is read is what BlobUploaded recorded, never
 * an object a later PUT put in its place. A size other than the recorded one says the same.
 */
export async function readUpload(
  upload: RecordedUpload,
  firstBytes?: number,
): Promise<{ bytes: Uint8Array; sizeBytes: number } | UploadGone> {
  try {
    const response = await s3().send(
      new GetObjectCommand({
        Bucket: upload.bucket,
        Key: upload.key,
        ...(upload.etag && { IfMatch: quoted(upload.etag) }),
        ...(firstBytes !== undefined && { Range: `bytes=0-${firstBytes - 1}` }),
      }),
    );
    const bytes = await response.Body!.transformToByteArray();
    const sizeBytes = Number(response.ContentRange?.split('/')[1] ?? response.ContentLength ?? bytes.length);
    return sizeBytes === upload.size_bytes ? { bytes, sizeBytes } : { gone: 'replaced' };
  } catch (error) {
    const gone = goneOf(error);
    if (gone) return gone;
    throw error;
  }
}

/** Whether the bucket still holds the recorded object (after a read that could not pin it). */
export async function isStillRecorded(upload: RecordedUpload): Promise<true | UploadGone> {
  try {
    const head = await s3().send(
      new HeadObjectCommand({ Bucket: upload.bucket, Key: upload.key, ...(upload.etag && { IfMatch: quoted(upload.etag) }) }),
    );
    return head.ContentLength === upload.size_bytes ? true : { gone: 'replaced' };
  } catch (error) {
    const gone = goneOf(error);
    if (gone) return gone;
    throw error;
  }
}
