import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { S3Error } from './errors.ts';

// Integrity checks S3 performs on upload bodies. They matter for fidelity:
// e.g. SDK >= 3.729 presigns x-amz-checksum-crc32 of an EMPTY body by default,
// which real S3 rejects with BadDigest for any non-empty upload; a local stand-in
// that skipped this would let that bug through to production.

export type ChecksumAlgorithm = 'crc32' | 'crc32c' | 'crc64nvme' | 'sha1' | 'sha256';

const ALGORITHMS: readonly ChecksumAlgorithm[] = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'];

/** An x-amz-checksum-* declaration (a header, or a presigned URL's query parameter). */
export interface DeclaredChecksum {
  readonly algorithm: ChecksumAlgorithm;
  readonly expected: string;
}

export interface Digest {
  update(chunk: Buffer): void;
  /** Base64 of the digest, the encoding S3 uses for x-amz-checksum-* values. */
  base64(): string;
}

function checksumHeaderName(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm}`;
}

function parseChecksumName(name: string): ChecksumAlgorithm | undefined {
  const lower = name.trim().toLowerCase();
  return ALGORITHMS.find((algorithm) => checksumHeaderName(algorithm) === lower);
}

/** First x-amz-checksum-* value among the given (name, value) pairs, if any. */
export function findDeclaredChecksum(entries: Iterable<readonly [string, string]>): DeclaredChecksum | undefined {
  for (const [name, value] of entries) {
    const algorithm = parseChecksumName(name);
    if (algorithm !== undefined) return { algorithm, expected: value };
  }
  return undefined;
}

/** A digest for the algorithm, or undefined when node has no implementation (crc32c, crc64nvme). */
export function createDigest(algorithm: ChecksumAlgorithm): Digest | undefined {
  switch (algorithm) {
    case 'crc32':
      return crc32Digest();
    case 'sha1':
    case 'sha256':
      return hashDigest(createHash(algorithm));
    default:
      return undefined;
  }
}

export function createMd5Digest(): Digest {
  return hashDigest(createHash('md5'));
}

function hashDigest(hash: Hash): Digest {
  return { update: (chunk) => hash.update(chunk), base64: () => hash.digest('base64') };
}

function crc32Digest(): Digest {
  let value = 0;
  return {
    update: (chunk) => {
      value = crc32(chunk, value);
    },
    base64: () => {
      const bytes = Buffer.alloc(4);
      bytes.writeUInt32BE(value >>> 0);
      return bytes.toString('base64');
    },
  };
}

export function checkChecksum(algorithm: ChecksumAlgorithm, expected: string, actual: string): void {
  if (expected !== actual) {
    throw new S3Error('BadDigest', `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`);
  }
}

export function checkContentMd5(expected: string, actual: string): void {
  if (Buffer.from(expected, 'base64').length !== 16) {
    throw new S3Error('InvalidDigest', 'The Content-MD5 you specified was invalid.');
  }
  if (expected !== actual) {
    throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.');
  }
}
