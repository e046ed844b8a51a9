// What labelImage accepts, and the Content-Type it is sent with. The API takes JPEG and PNG only,
// and tells them apart by their first bytes, so the client does the same (two fixed signatures;
// anything else is sent as octet-stream and the API records it FAILED INVALID_IMAGE_FORMAT).
export type ImageInput = Uint8Array | ArrayBuffer | Blob;
export type ImageContentType = 'image/jpeg' | 'image/png';

const signatures: [ImageContentType, number[]][] = [
  ['image/jpeg', [0xff, 0xd8, 0xff]],
  ['image/png', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
];

async function firstBytes(image: ImageInput, count: number): Promise<Uint8Array> {
  if (image instanceof Uint8Array) return image.subarray(0, count);
  if (image instanceof ArrayBuffer) return new Uint8Array(image, 0, Math.min(count, image.byteLength));
  return new Uint8Array(await image.slice(0, count).arrayBuffer());
}

/** `image/jpeg` or `image/png` as the bytes say, whatever a file name or a Blob's type claims; undefined otherwise. */
export async function detectImageType(image: ImageInput): Promise<ImageContentType | undefined> {
  const head = await firstBytes(image, 8);
  return signatures.find(([, signature]) => signature.every((byte, index) => head[index] === byte))?.[0];
}

/** fetch's body types (DOM lib) want an ArrayBuffer-backed view; Node's Buffer is typed more loosely. */
export function toBody(image: ImageInput): Blob | ArrayBuffer | Uint8Array<ArrayBuffer> {
  return image as Blob | ArrayBuffer | Uint8Array<ArrayBuffer>;
}
