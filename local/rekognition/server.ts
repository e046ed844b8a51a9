/**
 * Local stand-in for Amazon Rekognition's DetectLabels, speaking the real wire protocol
 * (AWS JSON 1.1: `POST /`, `X-Amz-Target: RekognitionService.DetectLabels`), so product code
 * uses the genuine `@aws-sdk/client-rekognition` with only the endpoint changed.
 *
 * Not emulated: request signing (credentials are ignored), `Features`/`Settings`
 * (image properties, label filters), `S3Object.Version`, any operation but DetectLabels.
 * Non-AWS extra: `GET /_local/stats`.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { guardServer, guardedHandler, isClientGone } from '../http-safety.ts';
import { RekognitionError, isRekognitionError, type RekognitionErrorType } from './errors.ts';
import { silentLogger, type Logger } from './logger.ts';
import { toRekognitionLabels, type WireLabel } from './labels.ts';
import { MODEL_NAME } from './model-info.ts';
import { DetectorPool, type DetectorPoolStats } from './pool.ts';
import { TransactionsPerSecond } from './rate-limit.ts';

export interface RekognitionServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: an ephemeral port, read it back from `url`. */
  port?: number;
  /** Detector worker threads. Default 2. */
  workers?: number;
  /** Requests allowed to wait for a worker before ThrottlingException. Default 32. */
  maxQueue?: number;
  /** How `Image.S3Object` is fetched; any rejection becomes InvalidS3ObjectException. */
  readS3Object: (bucket: string, key: string) => Promise<Uint8Array>;
  /** Used when a request has no MinConfidence (AWS uses 55; see README for why this differs). */
  defaultMinConfidence?: number;
  /** Default: silent. */
  logger?: Logger;
  /** Folder with centernet.json/.bin; defaults to the copy inside @vladmandic/human. */
  modelDir?: string;
  /** The detector worker's entry module; see DetectorPoolOptions.workerEntry. */
  workerEntry?: URL;
  /** DetectLabels calls allowed per second (the account's TPS quota); above it ThrottlingException. Default: no limit. */
  transactionsPerSecond?: number;
}

export interface RekognitionServerStats {
  /** DetectLabels requests received, whatever their outcome. */
  detectLabelsCalls: number;
  detectLabelsSucceeded: number;
  /** Error answers by exception name, e.g. `{ InvalidImageFormatException: 1 }`. */
  errors: Record<string, number>;
  /** The most DetectLabels requests this server was answering at one time. */
  peakInFlight: number;
  /**
   * Running sums, for per-stage figures: time from a DetectLabels request's body being read to
   * its answer (successful calls), and time reading `Image.S3Object`s.
   */
  detectLabelsMs: number;
  s3Reads: number;
  s3ReadMs: number;
  pool: DetectorPoolStats;
}

export interface RekognitionServer {
  /** e.g. `http://127.0.0.1:40123`; use it as the SDK client's `endpoint`. */
  url: string;
  close(): Promise<void>;
  stats(): RekognitionServerStats;
}

export const DETECT_LABELS_TARGET = 'RekognitionService.DetectLabels';
export const LABEL_MODEL_VERSION = `${MODEL_NAME} (local)`;
/** Minimum detection confidence (percent) when the request does not set MinConfidence. */
export const DEFAULT_MIN_CONFIDENCE = 40;
/** AWS's default MaxLabels. */
export const DEFAULT_MAX_LABELS = 1000;

const MiB = 1024 * 1024;
/** Rekognition set quotas: 5 MB for raw bytes in the request, 15 MB for an S3 object. */
export const MAX_INLINE_IMAGE_BYTES = 5 * MiB;
export const MAX_S3_IMAGE_BYTES = 15 * MiB;
/** 5 MiB of image is ~6.7 MiB of base64; anything much bigger cannot be a valid request. */
const MAX_BODY_BYTES = 8 * MiB;
const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

interface DetectLabelsInput {
  image: { kind: 'bytes'; bytes: Uint8Array } | { kind: 's3'; bucket: string; key: string };
  maxLabels: number;
  minConfidence: number;
}

type Counters = Omit<RekognitionServerStats, 'pool'>;

// ---------------------------------------------------------------- request parsing

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalidParameter(detail: string): RekognitionError {
  return new RekognitionError('InvalidParameterException', `Request has invalid parameters: ${detail}`);
}

function parseJsonBody(body: Buffer): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
  } catch {
    throw new RekognitionError('SerializationException', 'Start of structure or map found where not expected, or body is not valid JSON');
  }
  if (!isRecord(parsed)) throw new RekognitionError('SerializationException', 'Request body must be a JSON object');
  return parsed;
}

function decodeInlineBytes(value: unknown): Uint8Array {
  if (typeof value !== 'string') throw new RekognitionError('SerializationException', 'Image.Bytes must be a base64 string');
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length > MAX_INLINE_IMAGE_BYTES) {
    throw new RekognitionError('ImageTooLargeException', `Image size ${bytes.length} bytes exceeds the 5 MB limit for image bytes; use an S3 object`);
  }
  return bytes;
}

function parseS3Object(value: unknown): { kind: 's3'; bucket: string; key: string } {
  if (!isRecord(value) || typeof value.Bucket !== 'string' || typeof value.Name !== 'string' || !value.Bucket || !value.Name) {
    throw invalidParameter('Image.S3Object needs Bucket and Name');
  }
  return { kind: 's3', bucket: value.Bucket, key: value.Name };
}

function parseImage(value: unknown): DetectLabelsInput['image'] {
  if (!isRecord(value)) throw invalidParameter('Image is required');
  const hasBytes = value.Bytes !== undefined;
  const hasS3 = value.S3Object !== undefined;
  if (hasBytes === hasS3) throw invalidParameter('Image needs exactly one of Bytes or S3Object');
  return hasBytes ? { kind: 'bytes', bytes: decodeInlineBytes(value.Bytes) } : parseS3Object(value.S3Object);
}

function parseNumberField(value: unknown, name: string, min: number, max: number, integer: boolean): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ok = typeof value === 'number' && value >= min && value <= max && (!integer || Number.isInteger(value));
  if (!ok) throw invalidParameter(`${name} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}`);
  return value;
}

function parseDetectLabels(body: Record<string, unknown>, defaultMinConfidence: number): DetectLabelsInput {
  return {
    image: parseImage(body.Image),
    maxLabels: parseNumberField(body.MaxLabels, 'MaxLabels', 0, Number.MAX_SAFE_INTEGER, true) ?? DEFAULT_MAX_LABELS,
    minConfidence: parseNumberField(body.MinConfidence, 'MinConfidence', 0, 100, false) ?? defaultMinConfidence,
  };
}

// ---------------------------------------------------------------- HTTP plumbing

/** Reads the body up to a cap; past the cap it keeps draining (so the client can read our answer) and reports overflow. */
function readBody(req: http.IncomingMessage, limit: number): Promise<{ body: Buffer; overflow: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve({ body: Buffer.concat(chunks), overflow: size > limit }));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, payload: unknown, extraHeaders: Record<string, string> = {}): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': JSON_CONTENT_TYPE,
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
    ...extraHeaders,
  });
  res.end(body);
}

/** Same shape as Rekognition's documented error body; the SDK keys on `__type`/`x-amzn-errortype`. */
function sendError(res: http.ServerResponse, error: RekognitionError): void {
  const payload = { __type: error.type, Code: error.type, Message: error.message, Logref: randomUUID() };
  sendJson(res, error.status, payload, { 'x-amzn-errortype': error.type });
}

function asRekognitionError(error: unknown): RekognitionError {
  if (isRekognitionError(error)) return error;
  return new RekognitionError('InternalServerError', 'Internal server error');
}

// ---------------------------------------------------------------- server

class LocalRekognition {
  private readonly counters: Counters = {
    detectLabelsCalls: 0,
    detectLabelsSucceeded: 0,
    errors: {},
    peakInFlight: 0,
    detectLabelsMs: 0,
    s3Reads: 0,
    s3ReadMs: 0,
  };
  private inFlight = 0;
  private readonly quota: TransactionsPerSecond | undefined;

  constructor(
    private readonly pool: DetectorPool,
    private readonly options: RekognitionServerOptions,
    private readonly logger: Logger,
  ) {
    this.quota = options.transactionsPerSecond === undefined ? undefined : new TransactionsPerSecond(options.transactionsPerSecond);
  }

  stats(): RekognitionServerStats {
    return { ...this.counters, errors: { ...this.counters.errors }, pool: this.pool.stats() };
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/_local/stats') {
      sendJson(res, 200, this.stats(), { 'content-type': 'application/json' });
      return;
    }
    const target = req.headers['x-amz-target'];
    try {
      const { body, overflow } = await readBody(req, MAX_BODY_BYTES);
      if (req.method !== 'POST' || target !== DETECT_LABELS_TARGET) throw this.unknownOperation(target);
      this.counters.detectLabelsCalls += 1;
      this.inFlight += 1;
      this.counters.peakInFlight = Math.max(this.counters.peakInFlight, this.inFlight);
      try {
        if (this.quota && !this.quota.tryTake()) throw new RekognitionError('ThrottlingException', 'Rate exceeded');
        if (overflow) throw new RekognitionError('ImageTooLargeException', 'Request body exceeds the 5 MB image-bytes limit');
        const started = performance.now();
        const result = await this.detectLabels(parseJsonBody(body));
        this.counters.detectLabelsSucceeded += 1;
        this.counters.detectLabelsMs += performance.now() - started;
        sendJson(res, 200, result);
      } finally {
        this.inFlight -= 1;
      }
    } catch (error) {
      if (isClientGone(req, error)) {
        res.destroy();
        return;
      }
      this.fail(res, error);
    }
  }

  private unknownOperation(target: string | string[] | undefined): RekognitionError {
    return new RekognitionError('UnknownOperationException', `Operation ${String(target ?? '(none)')} is not supported by the local Rekognition (only DetectLabels)`);
  }

  private fail(res: http.ServerResponse, error: unknown): void {
    const typed = asRekognitionError(error);
    if (!isRekognitionError(error)) this.logger.error('DetectLabels failed', { error: String(error) });
    else this.logger.debug('DetectLabels rejected', { type: typed.type, message: typed.message });
    this.countError(typed.type);
    if (!res.headersSent) sendError(res, typed);
  }

  private countError(type: RekognitionErrorType): void {
    this.counters.errors[type] = (this.counters.errors[type] ?? 0) + 1;
  }

  private async detectLabels(body: Record<string, unknown>): Promise<{ Labels: WireLabel[]; LabelModelVersion: string }> {
    const input = parseDetectLabels(body, this.options.defaultMinConfidence ?? DEFAULT_MIN_CONFIDENCE);
    const bytes = input.image.kind === 'bytes' ? input.image.bytes : await this.readS3(input.image.bucket, input.image.key);
    const detections = await this.pool.detect(bytes);
    const labels = toRekognitionLabels(detections, { minConfidence: input.minConfidence, maxLabels: input.maxLabels });
    return { Labels: labels, LabelModelVersion: LABEL_MODEL_VERSION };
  }

  private async readS3(bucket: string, key: string): Promise<Uint8Array> {
    let bytes: Uint8Array;
    const started = performance.now();
    try {
      bytes = await this.options.readS3Object(bucket, key);
      this.counters.s3Reads += 1;
      this.counters.s3ReadMs += performance.now() - started;
    } catch (error) {
      this.logger.debug('readS3Object failed', { bucket, key, error: String(error) });
      // AWS gives the same answer for missing objects, missing buckets and denied access.
      throw new RekognitionError('InvalidS3ObjectException', 'Unable to get object metadata from S3. Check object key, region and/or access permissions.');
    }
    if (bytes.length > MAX_S3_IMAGE_BYTES) {
      throw new RekognitionError('ImageTooLargeException', `S3 object is ${bytes.length} bytes; the limit is 15 MB`);
    }
    return bytes;
  }
}

function listen(server: http.Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

function formatUrl(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/**
 * Starts the detector workers and the HTTP server; resolves once both are ready (workers
 * loaded and warmed up), so the first request does not pay the ~0.6 s cold start.
 */
export async function startRekognitionServer(options: RekognitionServerOptions): Promise<RekognitionServer> {
  const logger = options.logger ?? silentLogger;
  const pool = new DetectorPool({ workers: options.workers, maxQueue: options.maxQueue, logger, modelDir: options.modelDir, workerEntry: options.workerEntry });
  const service = new LocalRekognition(pool, options, logger);
  const server = http.createServer(guardedHandler('rekognition', logger, (req, res) => service.handle(req, res)));
  guardServer(server, 'rekognition', logger);
  try {
    await pool.ready();
    const address = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
    const url = formatUrl(address);
    logger.info('local Rekognition listening', { url, workers: pool.size, maxQueue: pool.maxQueue });
    let closed: Promise<void> | undefined;
    const close = (): Promise<void> => (closed ??= Promise.all([closeServer(server), pool.close()]).then(() => undefined));
    return { url, close, stats: () => service.stats() };
  } catch (error) {
    await pool.close();
    throw error;
  }
}
