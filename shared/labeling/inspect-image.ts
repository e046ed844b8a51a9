// What the uploaded bytes are, read from their first bytes and S3's size: the checks that
// give a failed labeling its precise reason before Rekognition is asked anything.
import { GetObjectCommand, NoSuchKey } from '@aws-sdk/client-s3';
import { imageSize } from 'image-size';
import { s3 } from '../aws/s3.ts';
import type { BlobFailedData, ImageContentType, ImageInfo } from '../blob/events.ts';

export interface ImageLimits {
  maxBytes: number;
  maxSide: number;
  minSide: number;
}

/** Rekognition's own limits for DetectLabels on an S3 object. */
export const rekognitionLimits: ImageLimits = { maxBytes: 15 * 1024 * 1024, maxSide: 10_000, minSide: 80 };

// A PNG's size is in its first chunk and most JPEGs' within a few KB. A JPEG's sits in its SOF
// marker, after any EXIF block (thumbnails run to 64 KB): a JPEG whose size is not in the
// first read gets a second, longer one. Reading 256 KB every time cost every image a few ms.
const FIRST_READ_BYTES = 16 * 1024;
const HEADER_BYTES = 256 * 1024;

export type Inspection = { image: ImageInfo } | { failed: BlobFailedData };

function contentTypeOf(bytes: Uint8Array): ImageContentType | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.every((byte, index) => bytes[index] === byte)) return 'image/png';
  return undefined;
}

/** The object's first `bytes` and its whole size, or why it cannot be read. */
async function readStart(
  object: { bucket: string; key: string },
  bytes: number,
): Promise<{ head: Uint8Array; sizeBytes: number } | { failed: BlobFailedData }> {
  try {
    const response = await s3().send(new GetObjectCommand({ Bucket: object.bucket, Key: object.key, Range: `bytes=0-${bytes - 1}` }));
    const head = await response.Body!.transformToByteArray();
    return { head, sizeBytes: Number(response.ContentRange?.split('/')[1] ?? response.ContentLength ?? head.length) };
  } catch (error) {
    if (error instanceof NoSuchKey) {
      return { failed: { code: 'LABELING_FAILED', message: 'The uploaded image is no longer in the bucket.' } };
    }
    throw error;
  }
}

/** Width and height as the picture is shown, or undefined if the bytes do not hold them. */
function dimensionsOf(head: Uint8Array): { width: number; height: number } | undefined {
  try {
    const size = imageSize(head);
    // EXIF orientations 5-8 turn the picture a quarter: what the labels describe is turned too.
    const turned = (size.orientation ?? 1) >= 5;
    return turned ? { width: size.height, height: size.width } : { width: size.width, height: size.height };
  } catch {
    return undefined;
  }
}

export async function inspectImage(object: { bucket: string; key: string }, limits: ImageLimits): Promise<Inspection> {
  let read = await readStart(object, FIRST_READ_BYTES);
  if ('failed' in read) return read;
  const { head, sizeBytes } = read;
  const contentType = contentTypeOf(head);
  if (!contentType) {
    return { failed: { code: 'INVALID_IMAGE_FORMAT', message: 'The upload is neither a JPEG nor a PNG image (by its bytes).' } };
  }
  if (sizeBytes > limits.maxBytes) {
    return { failed: { code: 'IMAGE_TOO_LARGE', message: `The image is ${sizeBytes} bytes; the limit is ${limits.maxBytes}.` } };
  }
  let dimensions = dimensionsOf(head);
  if (!dimensions && head.length < sizeBytes) {
    read = await readStart(object, HEADER_BYTES);
    if ('failed' in read) return read;
    dimensions = dimensionsOf(read.head);
  }
  if (!dimensions) {
    return { failed: { code: 'INVALID_IMAGE_FORMAT', message: `The ${contentType} image's header cannot be read.` } };
  }
  const { width, height } = dimensions;
  if (Math.max(width, height) > limits.maxSide) {
    return { failed: { code: 'IMAGE_TOO_LARGE', message: `The image is ${width}x${height} px; the limit is ${limits.maxSide} px a side.` } };
  }
  if (Math.min(width, height) < limits.minSide) {
    return { failed: { code: 'IMAGE_TOO_SMALL', message: `The image is ${width}x${height} px; it must be at least ${limits.minSide} px a side.` } };
  }
  return { image: { width, height, content_type: contentType, size_bytes: sizeBytes } };
}
