// Where images are uploaded: one object per blob, reached by a presigned PUT URL.
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
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

/** A URL that accepts a PUT of the image until `expires_at`, with that Content-Type when one is set. */
export async function presignUpload(
  upload: { bucket: string; key: string; expires_at: string; content_type?: string },
  now: Date,
): Promise<string | undefined> {
  const expiresIn = Math.floor((Date.parse(upload.expires_at) - now.getTime()) / 1000);
  if (expiresIn < 1) return undefined;
  const command = new PutObjectCommand({ Bucket: upload.bucket, Key: upload.key, ContentType: upload.content_type });
  // Signing the header is what makes S3 refuse an upload sent with another Content-Type.
  return getSignedUrl(s3(), command, {
    expiresIn,
    ...(upload.content_type && { signableHeaders: new Set(['content-type']) }),
  });
}

export async function deleteUpload(object: { bucket: string; key: string }): Promise<void> {
  await s3().send(new DeleteObjectCommand({ Bucket: object.bucket, Key: object.key }));
}
