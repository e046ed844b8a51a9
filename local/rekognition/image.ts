/**
 * Image checks and pre-processing, done with sharp (libvips). sharp's work runs on libuv's
 * thread pool, so calling this from the main thread does not block the event loop; only the
 * ready-made 512x512 pixel buffer is handed to a detector worker.
 */
import sharp, { type Metadata } from 'sharp';
import { RekognitionError } from './errors.ts';

// libvips caches recent operations (up to 50 MB, 100 items) to reuse results for repeated
// inputs; every upload here is a different image, so the cache would only hold memory.
// (sharp already keeps libvips to one thread per image on glibc Linux, against fragmentation.)
sharp.cache(false);

/** Rekognition's documented set quota: "minimum image dimensions is 80 pixels for both height and width". */
export const MIN_IMAGE_SIDE = 80;
/** Rekognition's documented maximum for DetectLabels: 10K pixels for both width and height. */
export const MAX_IMAGE_SIDE = 10_000;
/** CenterNet's graph has a fixed [1, 512, 512, 3] input. */
export const MODEL_INPUT_SIZE = 512;

export type ImageFormat = 'jpeg' | 'png';

/** Where the photo sits inside the square model input: top-left corner, scaled, rest padded. */
export interface Letterbox {
  inputSize: number;
  scaledWidth: number;
  scaledHeight: number;
}

export interface PreparedImage extends Letterbox {
  /** Size of the image after EXIF orientation, which is what box ratios refer to. */
  width: number;
  height: number;
  /** inputSize * inputSize * 3 bytes, RGB, row-major, values 0-255. */
  pixels: Uint8Array;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff];

function startsWith(bytes: Uint8Array, signature: readonly number[]): boolean {
  return bytes.length >= signature.length && signature.every((b, i) => bytes[i] === b);
}

/** Rekognition accepts only JPEG and PNG; decide by magic bytes, never by a declared type. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (startsWith(bytes, JPEG_SIGNATURE)) return 'jpeg';
  if (startsWith(bytes, PNG_SIGNATURE)) return 'png';
  return undefined;
}

function invalidFormat(detail: string): RekognitionError {
  return new RekognitionError('InvalidImageFormatException', `Request has invalid image format: ${detail}`);
}

/** Header-only read; oriented size because Rekognition reports boxes for the EXIF-corrected image. */
async function readOrientedSize(bytes: Uint8Array): Promise<{ width: number; height: number }> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch {
    throw invalidFormat('the image header could not be read');
  }
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!width || !height) throw invalidFormat('the image has no dimensions');
  return { width, height };
}

function checkDimensions(width: number, height: number): void {
  if (width < MIN_IMAGE_SIDE || height < MIN_IMAGE_SIDE) {
    // Real Rekognition answers undersized images with a generic InvalidParameterException
    // ("Request has invalid parameters"), not InvalidImageFormatException; mirror that.
    throw new RekognitionError(
      'InvalidParameterException',
      `Request has invalid parameters: image is ${width}x${height} px, the minimum is ${MIN_IMAGE_SIDE} px on each side`,
    );
  }
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) {
    throw new RekognitionError(
      'ImageTooLargeException',
      `Input image dimensions ${width} x ${height} exceed maximum dimension size of ${MAX_IMAGE_SIDE} pixels`,
    );
  }
}

export function letterboxFor(width: number, height: number, inputSize: number): Letterbox {
  const scale = Math.min(inputSize / width, inputSize / height);
  return {
    inputSize,
    scaledWidth: Math.max(1, Math.min(inputSize, Math.round(width * scale))),
    scaledHeight: Math.max(1, Math.min(inputSize, Math.round(height * scale))),
  };
}

/**
 * Full decode + letterbox. Keeping the aspect ratio matters: stretching Chelsea the cat to a
 * square made the model call it a dog. Transparent areas are shown on white, like a viewer would.
 */
async function renderLetterbox(bytes: Uint8Array, box: Letterbox): Promise<Uint8Array> {
  try {
    const { data, info } = await sharp(bytes, { failOn: 'truncated' })
      .autoOrient()
      .flatten({ background: '#ffffff' })
      .resize(box.scaledWidth, box.scaledHeight, { fit: 'fill' })
      .extend({
        right: box.inputSize - box.scaledWidth,
        bottom: box.inputSize - box.scaledHeight,
        background: '#000000',
      })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== box.inputSize * box.inputSize * 3) {
      throw new Error(`unexpected raw output ${info.width}x${info.height}x${info.channels}`);
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch {
    throw invalidFormat('the image data could not be decoded (corrupt or truncated)');
  }
}

/** Validate (format, size limits, decodability) and produce the model input. Throws RekognitionError. */
export async function prepareImage(bytes: Uint8Array, inputSize: number = MODEL_INPUT_SIZE): Promise<PreparedImage> {
  if (!sniffImageFormat(bytes)) throw invalidFormat('only JPEG and PNG images are supported');
  const { width, height } = await readOrientedSize(bytes);
  checkDimensions(width, height);
  const box = letterboxFor(width, height, inputSize);
  const pixels = await renderLetterbox(bytes, box);
  return { ...box, width, height, pixels };
}
