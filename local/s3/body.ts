import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { PassThrough, Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  checkChecksum,
  checkContentMd5,
  createDigest,
  createMd5Digest,
  type DeclaredChecksum,
  type Digest,
} from './checksums.ts';
import { S3Error } from './errors.ts';

// Request bodies are spooled to a file (or held in memory) while being checked, and
// only a fully verified body is handed to s3rver. s3rver writes objects in
// place, so streaming an unverified (or aborted) body straight into it would
// leave a truncated or forged object behind — or clobber a good one.

export interface BodyPlan {
  /** The hex SHA-256 the signature covered (x-amz-content-sha256), if the payload was signed. */
  readonly payloadSha256?: string;
  readonly checksum?: DeclaredChecksum;
  readonly contentMd5?: string;
  readonly maxBytes: number;
  /** The length the client announced (Content-Length). */
  readonly declaredLength?: number;
}

/** A verified body: in a spool file, or in memory when it was small (see `spoolBody`). */
export type SpooledBody = { readonly size: number } & ({ readonly path: string } | { readonly bytes: Buffer });

export function entityTooLarge(proposed: number | undefined, maxBytes: number): S3Error {
  return new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
    ...(proposed === undefined ? {} : { ProposedSize: String(proposed) }),
    MaxSizeAllowed: String(maxBytes),
  });
}

/**
 * Reads the request body, verifying it on the way: into memory when `path` is undefined (the
 * caller's choice, for a body whose declared length is small), else into the file `path`. On
 * failure the request is left intact (only unpiped), so the caller can still answer on its
 * connection and discard the rest of the body.
 */
export async function spoolBody(request: IncomingMessage, plan: BodyPlan, path: string | undefined): Promise<SpooledBody> {
  const source = new PassThrough();
  // pipe() does not forward errors: without this a client that hangs up
  // mid-upload would leave the pipeline waiting forever.
  const onHangUp = (): void => {
    if (!request.complete) source.destroy(new S3Error('IncompleteBody', 'The client closed the connection before sending the whole body.'));
  };
  request.once('close', onHangUp);
  request.once('error', onHangUp);
  request.pipe(source);
  const meter = new BodyMeter(plan);
  const sink = path === undefined ? new MemorySink(plan.declaredLength ?? 0) : createWriteStream(path);
  try {
    await pipeline(source, meter, sink);
    meter.verify();
    return sink instanceof MemorySink ? { bytes: sink.bytes(), size: meter.size } : { path: path!, size: meter.size };
  } catch (error) {
    if (path !== undefined) await rm(path, { force: true });
    throw error;
  } finally {
    request.off('close', onHangUp);
    request.off('error', onHangUp);
    request.unpipe(source);
  }
}

/** Collects a body of known length; more bytes than announced is the client's error, as on disk. */
class MemorySink extends Writable {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly declaredLength: number) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.size += chunk.length;
    if (this.size > this.declaredLength) {
      callback(new S3Error('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header.'));
      return;
    }
    this.chunks.push(chunk);
    callback();
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }
}

/** Counts, hashes and size-limits the body on its way to disk or memory. */
class BodyMeter extends Transform {
  size = 0;
  private readonly sha256 = createHash('sha256');
  private readonly checksum: Digest | undefined;
  private readonly md5: Digest | undefined;

  constructor(private readonly plan: BodyPlan) {
    super();
    this.checksum = plan.checksum ? createDigest(plan.checksum.algorithm) : undefined;
    this.md5 = plan.contentMd5 === undefined ? undefined : createMd5Digest();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.plan.maxBytes) {
      callback(entityTooLarge(this.plan.declaredLength, this.plan.maxBytes));
      return;
    }
    if (this.plan.payloadSha256 !== undefined) this.sha256.update(chunk);
    this.checksum?.update(chunk);
    this.md5?.update(chunk);
    callback(null, chunk);
  }

  verify(): void {
    this.verifyLength();
    this.verifyPayloadHash();
    this.verifyChecksum();
    if (this.md5 && this.plan.contentMd5 !== undefined) checkContentMd5(this.plan.contentMd5, this.md5.base64());
  }

  private verifyLength(): void {
    const declared = this.plan.declaredLength;
    if (declared !== undefined && declared !== this.size) {
      throw new S3Error('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header.');
    }
  }

  private verifyPayloadHash(): void {
    const expected = this.plan.payloadSha256;
    if (expected === undefined) return;
    const actual = this.sha256.digest('hex');
    if (actual !== expected) {
      throw new S3Error('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", {
        ClientComputedContentSHA256: expected,
        S3ComputedContentSHA256: actual,
      });
    }
  }

  private verifyChecksum(): void {
    const declared = this.plan.checksum;
    if (!declared || !this.checksum) return;
    checkChecksum(declared.algorithm, declared.expected, this.checksum.base64());
  }
}
