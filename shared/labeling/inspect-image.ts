// What the uploaded bytes are, read from the recorded object and its size: the checks that
// give a failed labeling its precise reason before Rekognition is asked anything.
import { imageSize } from 'image-size';
import type { BlobFailedData, ImageContentType, ImageInfo } from '../blob/events.ts';
import { readUpload, type RecordedUpload, type UploadGone } from '../storage/uploads.ts';

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

/**
 * Rekognition takes up to 5 MB as Image.Bytes. An image up to that size is read whole, pinned to
 * the recorded object by If-Match, and its very bytes go to DetectLabels: what is labeled is
 * exactly what BlobUploaded recorded. A larger one is inspected from its first bytes (also
 * pinned) and labeled as an S3Object, checked again afterwards (see label-blob).
 */
export const MAX_INLINE_IMAGE_BYTES = 5 * 1024 * 1024;

/** `bytes` when the whole image was read (and is to be sent as Image.Bytes). */
export type Inspection = { image: ImageInfo; bytes?: Uint8Array } | { failed: BlobFailedData };

export const emptyUpload: BlobFailedData = {
  code: 'INVALID_IMAGE_FORMAT',
  message: 'The upload is empty (0 bytes); upload a JPEG or PNG image.',
};

/** What a blob ends as when the object it recorded is no longer there to label. */
export function failureOf(gone: UploadGone['gone']): BlobFailedData {
  switch (gone) {
    case 'empty':
      return emptyUpload;
    case 'missing':
      return { code: 'LABELING_FAILED', message: 'The uploaded image is no longer in the bucket.' };
    case 'replaced':
      // The first upload counts (README): labeling the later one would give its labels to another image.
      return {
        code: 'LABELING_FAILED',
        message: 'The upload was replaced by a later upload to the same URL before it was labeled; only the first upload counts, and it is gone. Create a new blob for another image.',
      };
  }
}

function contentTypeOf(bytes: Uint8Array): ImageContentType | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.every((byte, index) => bytes[index] === byte)) return 'image/png';
  return undefined;
}

async function readStart(upload: RecordedUpload, bytes?: number): Promise<{ head: Uint8Array; sizeBytes: number } | { failed: BlobFailedData }> {
  const read = await readUpload(upload, bytes);
  return 'gone' in read ? { failed: failureOf(read.gone) } : { head: read.bytes, sizeBytes: read.sizeBytes };
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

export async function inspectImage(upload: RecordedUpload, limits: ImageLimits): Promise<Inspection> {
  // A range on an empty object is refused (416 in AWS), and there is nothing to label anyway.
  if (upload.size_bytes === 0) return { failed: emptyUpload };
  const whole = upload.size_bytes <= MAX_INLINE_IMAGE_BYTES;
  let read = await readStart(upload, whole ? undefined : FIRST_READ_BYTES);
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
    read = await readStart(upload, HEADER_BYTES);
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
  return { image: { width, height, content_type: contentType, size_bytes: sizeBytes }, ...(whole && { bytes: head }) };
}
