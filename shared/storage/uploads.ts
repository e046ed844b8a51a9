// Where images are uploaded: one object per blob, reached by a presigned PUT URL.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3 } from '../aws.ts';

const UPLOAD_PREFIX = 'uploads/';

export function uploadKey(blobId: string): string {
  return `${UPLOAD_PREFIX}${blobId}`;
}

/** The blob an uploaded object belongs to, or undefined for keys we did not hand out. */
export function blobIdOfKey(key: string): string | undefined {
  return key.startsWith(UPLOAD_PREFIX) ? key.slice(UPLOAD_PREFIX.length) : undefined;
}

/** A URL that accepts one PUT of the image until `expiresAt`. */
export async function presignUpload(
  upload: { bucket: string; key: string; expires_at: string },
  now: Date,
): Promise<string | undefined> {
  const expiresIn = Math.floor((Date.parse(upload.expires_at) - now.getTime()) / 1000);
  if (expiresIn < 1) return undefined;
  return getSignedUrl(s3(), new PutObjectCommand({ Bucket: upload.bucket, Key: upload.key }), {
    expiresIn,
  });
}
