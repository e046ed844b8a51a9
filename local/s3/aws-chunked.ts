import { createHash } from 'node:crypto';
import { S3Error } from './errors.ts';
import { EMPTY_SHA256, signaturesEqual, type ChunkSigner, type SigningScope } from './sigv4.ts';

// Decoder for `Content-Encoding: aws-chunked` bodies (the SDK sends these for
// streams when it computes a trailing checksum), with optional verification
// of the per-chunk signature chain and the trailer signature. Chunk data is
// passed on as it arrives (bounded memory); a bad signature surfaces as an
// error before the body is complete, and nothing is committed before that.
//
//   <hex-size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n
//   [<trailer-name>:<value>\r\n ...][x-amz-trailer-signature:<sig>\r\n]\r\n

export interface ChunkVerification {
  readonly signer: ChunkSigner;
  readonly seedSignature: string;
  readonly scope: SigningScope;
  readonly signedTrailer: boolean;
}

export interface AwsChunkedOptions {
  readonly verification?: ChunkVerification;
  readonly onTrailer: (trailer: ReadonlyMap<string, string>) => void;
}

const MAX_LINE_BYTES = 8 * 1024;
const TRAILER_SIGNATURE = 'x-amz-trailer-signature';

export function awsChunkedDecoder(options: AwsChunkedOptions): (source: AsyncIterable<Buffer>) => AsyncGenerator<Buffer> {
  return async function* decode(source) {
    const reader = new ByteReader(source[Symbol.asyncIterator]());
    let previous = options.verification?.seedSignature ?? '';
    for (;;) {
      const header = parseChunkHeader(await reader.readLine());
      const hash = options.verification ? createHash('sha256') : undefined;
      for await (const piece of reader.take(header.size)) {
        hash?.update(piece);
        yield piece;
      }
      if (options.verification) {
        const chunkHash = hash?.digest('hex') ?? EMPTY_SHA256;
        previous = await verifyChunk(options.verification, previous, chunkHash, header.signature);
      }
      if (header.size === 0) break;
      if ((await reader.readLine()) !== '') throw malformedChunk('chunk data is not followed by CRLF');
    }
    const trailer = await readTrailer(reader, options.verification, previous);
    options.onTrailer(trailer);
    await reader.drain();
  };
}

interface ChunkHeader {
  readonly size: number;
  readonly signature?: string;
}

function parseChunkHeader(line: string): ChunkHeader {
  const [sizeText = '', ...extensions] = line.split(';');
  if (!/^[0-9a-fA-F]{1,12}$/.test(sizeText.trim())) throw malformedChunk(`bad chunk size line "${line.slice(0, 64)}"`);
  const signature = extensions
    .map((extension) => extension.trim())
    .find((extension) => extension.startsWith('chunk-signature='))
    ?.slice('chunk-signature='.length);
  return { size: Number.parseInt(sizeText, 16), signature };
}

async function verifyChunk(
  verification: ChunkVerification,
  previous: string,
  chunkHash: string,
  provided: string | undefined,
): Promise<string> {
  const expected = await verification.signer.chunkSignature(previous, chunkHash, verification.scope);
  if (provided === undefined || !signaturesEqual(provided, expected)) {
    throw new S3Error('SignatureDoesNotMatch', 'The chunk signature we calculated does not match the signature you provided.');
  }
  return expected;
}

async function readTrailer(
  reader: ByteReader,
  verification: ChunkVerification | undefined,
  previous: string,
): Promise<ReadonlyMap<string, string>> {
  const trailer = new Map<string, string>();
  let canonical = '';
  let signature: string | undefined;
  for (let line = await reader.readLine(); line !== ''; line = await reader.readLine()) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformedChunk('bad trailer line');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === TRAILER_SIGNATURE) {
      signature = value;
      continue;
    }
    trailer.set(name, value);
    canonical += `${name}:${value}\n`;
  }
  if (verification?.signedTrailer) {
    const trailerHash = createHash('sha256').update(canonical).digest('hex');
    const expected = await verification.signer.trailerSignature(previous, trailerHash, verification.scope);
    if (signature === undefined || !signaturesEqual(signature, expected)) {
      throw new S3Error('SignatureDoesNotMatch', 'The trailer signature we calculated does not match the signature you provided.');
    }
  }
  return trailer;
}

function malformedChunk(detail: string): S3Error {
  return new S3Error('IncompleteBody', `The aws-chunked body is malformed: ${detail}.`);
}

/** Pulls bytes from an async iterator of Buffers: lines for framing, exact counts for data. */
class ByteReader {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  async readLine(): Promise<string> {
    for (;;) {
      const end = this.pending.indexOf('\r\n');
      if (end !== -1) {
        const line = this.pending.subarray(0, end).toString('latin1');
        this.pending = this.pending.subarray(end + 2);
        return line;
      }
      if (this.pending.length > MAX_LINE_BYTES) throw malformedChunk('framing line too long');
      await this.fill();
    }
  }

  async *take(count: number): AsyncGenerator<Buffer> {
    let remaining = count;
    while (remaining > 0) {
      if (this.pending.length === 0) await this.fill();
      const piece = this.pending.subarray(0, remaining);
      this.pending = this.pending.subarray(piece.length);
      remaining -= piece.length;
      yield piece;
    }
  }

  /** Consumes anything after the final chunk so the request stream ends normally. */
  async drain(): Promise<void> {
    this.pending = Buffer.alloc(0);
    for (let next = await this.source.next(); !next.done; next = await this.source.next()) {
      // discard
    }
  }

  private async fill(): Promise<void> {
    const next = await this.source.next();
    if (next.done) throw new S3Error('IncompleteBody', 'The request body ended before the final aws-chunked chunk.');
    this.pending = this.pending.length === 0 ? next.value : Buffer.concat([this.pending, next.value]);
  }
}
