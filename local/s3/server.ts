import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { guardServer, guardedHandler, isClientGone, type SafetyLogger } from '../http-safety.ts';
import { stackLogger } from '../log.ts';
import { entityTooLarge, spoolBody, type BodyPlan, type SpooledBody } from './body.ts';
import { findDeclaredChecksum, type DeclaredChecksum } from './checksums.ts';
import { S3Error, renderErrorXml, toS3Error } from './errors.ts';
import { formatTargetWithout, parseRequestTarget, type RequestTarget } from './request-target.ts';
import { QUERY_AUTH_PARAMS, authenticate, type Authenticated, type SignedRequest, type VerifierConfig } from './sigv4.ts';
import { startUpstream, type BucketCorsRule, type Upstream, type UpstreamCreation, type UpstreamResponse } from './upstream.ts';
import { meter } from '../usage.ts';

// Local S3 stand-in: a front server on the public port that authenticates
// every request the way S3 does (SigV4 header or presigned query), verifies
// bodies, and proxies to s3rver — which serves the S3 REST API but checks no
// signatures. Object creations are reported through onObjectCreated BEFORE the
// client gets its 200, so a caller that enqueues durably there never loses an
// acknowledged upload.

export interface ObjectCreated {
  bucket: string;
  key: string;
  size: number;
  /** Hex MD5 as S3 event notifications carry it, without quotes. */
  etag: string;
  contentType?: string;
  sourceIp?: string;
  requestId: string;
  time: string;
}

export interface StartS3Options {
  host?: string;
  port?: number;
  directory: string;
  buckets: string[];
  /** Each bucket's CORS rules (by bucket name), answered as S3 answers them: preflights and response headers. */
  cors?: Record<string, readonly BucketCorsRule[]>;
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  /** Largest body accepted in one request; defaults to S3's 5 GiB single-PUT limit. */
  maxObjectBytes?: number;
  onObjectCreated?: (record: ObjectCreated) => Promise<void>;
  /** Where an unexpected failure of a request is logged; the stack's own log by default. */
  logger?: SafetyLogger;
}

export interface RunningS3 {
  url: string;
  port: number;
  /**
   * Reads a stored object in-process, unauthenticated. For stand-ins of services that read S3
   * from inside AWS (Rekognition's S3Object): they never go through the public endpoint. It
   * counts as a GET (local/usage.ts) and, like a GET, sees an object before or after a PUT to
   * it, never half of one.
   */
  readObject(bucket: string, key: string): Promise<Buffer>;
  close(): Promise<void>;
}

const DEFAULT_MAX_OBJECT_BYTES = 5 * 1024 ** 3;
const CLOSE_GRACE_MS = 5_000;

// Headers that describe the client's connection, framing or authentication;
// the forwarded request gets its own.
const NOT_FORWARDED = new Set([
  'authorization',
  'connection',
  'content-length',
  'expect',
  'host',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'x-amz-content-sha256',
  'x-amz-date',
  'x-amz-security-token',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-local-s3-correlation',
]);
const NOT_RELAYED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'x-amz-request-id']);

interface Context {
  readonly options: StartS3Options;
  readonly maxObjectBytes: number;
  readonly upstream: Upstream;
  readonly spoolDirectory: string;
  readonly logger: SafetyLogger;
  /** The last request in line for each object key (see inTurn). */
  readonly turns: Map<string, Promise<void>>;
  /** Bytes of request bodies held in memory right now (see IN_MEMORY_BODY_BYTES). */
  bodiesInMemory: number;
}

/**
 * Bodies announced at up to 1 MiB (most images) are verified in memory and handed to s3rver in
 * one write, while at most 16 MiB of them are held at once; the rest go through a spool file.
 * Measured per upload: the file's open/write/close/read/unlink cost ~1-2 ms on the one thread.
 */
const IN_MEMORY_BODY_BYTES = 1024 * 1024;
const IN_MEMORY_BUDGET_BYTES = 16 * 1024 * 1024;

export async function startS3(options: StartS3Options): Promise<RunningS3> {
  await mkdir(options.directory, { recursive: true });
  const spoolDirectory = await mkdtemp(join(tmpdir(), 'local-s3-spool-'));
  const upstream = await startUpstream({
    directory: options.directory,
    buckets: options.buckets,
    region: options.region,
    ...(options.cors && { cors: options.cors }),
  });
  const logger = options.logger ?? stackLogger;
  const context: Context = {
    options,
    logger,
    turns: new Map(),
    maxObjectBytes: options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES,
    upstream,
    spoolDirectory,
    bodiesInMemory: 0,
  };
  const server = http.createServer(guardedHandler('s3', logger, (req, res) => handle(req, res, context, false)));
  guardServer(server, 's3', logger);
  server.requestTimeout = 0; // large uploads may legitimately take longer than Node's default 5 minutes
  // Authenticate before inviting the body, as S3 does for Expect: 100-continue.
  server.on('checkContinue', guardedHandler('s3', logger, (req, res) => handle(req, res, context, true)));
  const releaseBackends = async (): Promise<void> => {
    await upstream.close();
    await rm(spoolDirectory, { recursive: true, force: true });
  };
  const host = options.host ?? '127.0.0.1';
  try {
    await listen(server, host, options.port ?? 0);
  } catch (error) {
    await releaseBackends();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${urlHost(host)}:${port}`,
    port,
    // S3 bills the bucket's owner for a GET that Rekognition makes with the caller's permissions
    // (the bucket is not Requester Pays), and the read takes its turn like any other.
    readObject: (bucket, key) => {
      meter.s3Request('GET', false);
      return inTurn(context, `${bucket}/${key}`, () => upstream.readObject(bucket, key));
    },
    close: async () => {
      await closeGracefully(server);
      await releaseBackends();
    },
  };
}

function listen(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

// In-flight requests may be waiting on onObjectCreated; let them finish.
async function closeGracefully(server: http.Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
  await closed;
  clearTimeout(timer);
}

async function handle(req: IncomingMessage, res: ServerResponse, context: Context, expectsContinue: boolean): Promise<void> {
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  const spoolPath = join(context.spoolDirectory, requestId);
  let continued = !expectsContinue;
  let spooled = false;
  let heldInMemory = 0;
  try {
    const target = parseRequestTarget(req.url ?? '/');
    const method = req.method ?? 'GET';
    // CORS preflights are unauthenticated in S3; s3rver answers from the bucket's CORS config.
    const auth = method === 'OPTIONS' ? undefined : await authenticate(signedRequest(req, target), verifierConfig(context));
    // A listing is a GET on the bucket itself (/bucket or /bucket/), billed with the PUTs.
    if (auth) meter.s3Request(method, !/^\/[^/]+\/[^/]/.test(target.path));
    const plan = auth && planBody(req, target, auth, context.maxObjectBytes);
    if (!continued) {
      res.writeContinue();
      continued = true;
    }
    if (plan) heldInMemory = holdInMemory(plan, context);
    spooled = plan !== undefined && heldInMemory === 0;
    const body = plan ? await spoolBody(req, plan, spooled ? spoolPath : undefined) : undefined;
    await inTurn(context, objectKeyOf(target.path), async () => {
      const upstream = await context.upstream.forward({
        method,
        target: formatTargetWithout(target, QUERY_AUTH_PARAMS),
        headers: forwardedHeaders(req, body),
        ...(body && { body }),
      });
      context.bodiesInMemory -= heldInMemory;
      heldInMemory = 0;
      await reportCreation(upstream, req, requestId, context);
      checkRead(upstream, req);
      await relay(upstream, res, requestId);
    });
  } catch (error) {
    if (!(error instanceof S3Error) && !isClientGone(req, error)) {
      context.logger.error('S3 request failed unexpectedly', { request_id: requestId, method: req.method, error: String(error) });
    }
    sendError(req, res, toS3Error(error), requestId, continued);
  } finally {
    context.bodiesInMemory -= heldInMemory;
    if (spooled) await rm(spoolPath, { force: true }).catch(() => undefined);
  }
}

/**
 * Requests to one object take turns, from s3rver's first byte to the client's last. s3rver
 * writes an object's bytes and its metadata in separate steps, and two PUTs to one key at once
 * interleave them: the bytes of one under the ETag of the other, or a shorter image followed by
 * the tail of a longer one; a read during a write sees half a file. S3 replaces an object
 * atomically and a read sees the old object or the new one, never a mix. Bodies are received
 * before a request joins the line, so a slow client holds up no one.
 */
async function inTurn<T>(context: Context, key: string | undefined, work: () => Promise<T>): Promise<T> {
  if (key === undefined) return work();
  const previous = context.turns.get(key) ?? Promise.resolve();
  let done!: () => void;
  const mine = previous.then(() => new Promise<void>((resolve) => (done = resolve)));
  context.turns.set(key, mine);
  try {
    await previous;
    return await work();
  } finally {
    // `done` is set once `previous` has settled, which the await above guarantees.
    done();
    if (context.turns.get(key) === mine) context.turns.delete(key);
  }
}

/** `bucket/key` of a path-style object request; undefined for a bucket or the service. */
function objectKeyOf(path: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    decoded = path;
  }
  const slash = decoded.indexOf('/', 1);
  return slash === -1 || slash === decoded.length - 1 ? undefined : decoded.slice(1);
}

/** Reserves memory for a small body, or returns 0 for a spool file. */
function holdInMemory(plan: BodyPlan, context: Context): number {
  const size = plan.declaredLength;
  if (size === undefined || size === 0 || size > IN_MEMORY_BODY_BYTES) return 0;
  if (context.bodiesInMemory + size > IN_MEMORY_BUDGET_BYTES) return 0;
  context.bodiesInMemory += size;
  return size;
}

function signedRequest(req: IncomingMessage, target: RequestTarget): SignedRequest {
  return { method: req.method ?? 'GET', target, headers: req.headersDistinct };
}

function verifierConfig(context: Context): VerifierConfig {
  return { credentials: context.options.credentials, region: context.options.region, now: new Date() };
}

function planBody(req: IncomingMessage, target: RequestTarget, auth: Authenticated, maxBytes: number): BodyPlan | undefined {
  const transferEncoding = req.headers['transfer-encoding'];
  if (transferEncoding !== undefined) {
    // Real S3 refuses plain chunked uploads; failing here keeps local behaviour honest.
    throw new S3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', {
      Header: 'Transfer-Encoding',
    });
  }
  const method = req.method ?? 'GET';
  const contentLength = parseLength(req.headers['content-length']);
  const hasBody = method === 'PUT' || method === 'POST' || (contentLength ?? 0) > 0 || transferEncoding !== undefined;
  if (!hasBody) return undefined;
  const declaredLength = contentLength;
  if (declaredLength === undefined && method === 'PUT') {
    throw new S3Error('MissingContentLength', 'You must provide the Content-Length HTTP header.');
  }
  if (declaredLength !== undefined && declaredLength > maxBytes) throw entityTooLarge(declaredLength, maxBytes);
  return {
    payloadSha256: auth.payload.kind === 'sha256' ? auth.payload.hex : undefined,
    checksum: declaredChecksum(req, target),
    contentMd5: headerString(req, 'content-md5'),
    maxBytes,
    declaredLength,
  };
}

function headerString(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function parseLength(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  if (!/^\d+$/.test(value)) throw new S3Error('InvalidArgument', `Invalid length header value "${value}".`);
  return Number(value);
}

// A checksum comes as a header, or hoisted into a presigned URL's query.
function declaredChecksum(req: IncomingMessage, target: RequestTarget): DeclaredChecksum | undefined {
  const headerEntries = Object.entries(req.headers).flatMap(([name, value]) =>
    typeof value === 'string' ? [[name, value] as const] : [],
  );
  const queryEntries = target.params.map((param) => [param.name, param.value] as const);
  return findDeclaredChecksum([...headerEntries, ...queryEntries]);
}

function forwardedHeaders(req: IncomingMessage, body: SpooledBody | undefined): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !NOT_FORWARDED.has(name)) headers[name] = value;
  }
  if (body) headers['content-length'] = String(body.size);
  Object.assign(headers, forwardedFor(req));
  const copySource = headerString(req, 'x-amz-copy-source');
  if (copySource !== undefined) headers['x-amz-copy-source'] = copySourceForS3rver(copySource);
  return headers;
}

function forwardedFor(req: IncomingMessage): OutgoingHttpHeaders {
  const ip = clientIp(req);
  return {
    'x-forwarded-proto': 'http',
    ...(req.headers.host === undefined ? {} : { 'x-forwarded-host': req.headers.host }),
    ...(ip === undefined ? {} : { 'x-forwarded-for': ip }),
  };
}

// s3rver decodes x-amz-copy-source with decodeURI, which leaves reserved
// escapes such as %2B ('+') encoded and so misses keys containing them;
// re-encode the key so that decodeURI yields it exactly.
function copySourceForS3rver(copySource: string): string {
  const withoutVersion = copySource.split('?')[0] ?? '';
  try {
    return encodeURI(decodeURIComponent(withoutVersion));
  } catch {
    throw new S3Error('InvalidArgument', 'Invalid copy source encoding', { ArgumentName: 'x-amz-copy-source' });
  }
}

async function reportCreation(upstream: UpstreamResponse, req: IncomingMessage, requestId: string, context: Context): Promise<void> {
  const { creation, response } = upstream;
  const onObjectCreated = context.options.onObjectCreated;
  if (!creation || response.statusCode !== 200 || !onObjectCreated) return;
  try {
    await onObjectCreated(await objectCreatedRecord(creation, req, requestId, context.upstream));
  } catch (error) {
    response.resume();
    const message = error instanceof Error ? error.message : String(error);
    throw new S3Error('InternalError', `We encountered an internal error. Please try again. (object-created hook failed: ${message})`);
  }
}

async function objectCreatedRecord(
  creation: UpstreamCreation,
  req: IncomingMessage,
  requestId: string,
  upstream: Upstream,
): Promise<ObjectCreated> {
  // A plain PUT's event and headers say everything; copies and completed
  // multipart uploads take content type (and a copy's ETag) from the stored object.
  const isPut = creation.kind === 'Put';
  const metadata = isPut ? {} : await upstream.objectMetadata(creation.bucket, creation.key).catch(() => ({}));
  return {
    bucket: creation.bucket,
    key: creation.key,
    size: creation.size,
    etag: creation.etag ?? metadata.etag ?? '',
    contentType: isPut ? (req.headers['content-type'] ?? 'binary/octet-stream') : metadata.contentType,
    sourceIp: clientIp(req),
    requestId,
    time: creation.time,
  };
}

function clientIp(req: IncomingMessage): string | undefined {
  return req.socket.remoteAddress?.replace(/^::ffff:/, '');
}

/**
 * What s3rver gets wrong on reads, answered as S3 does: a Range on an empty object is 416
 * InvalidRange (s3rver sends 206 with Content-Length 1 and no body, and the client hangs),
 * and If-Match, which s3rver ignores, is 412 PreconditionFailed unless the ETag it served matches.
 */
function checkRead(upstream: UpstreamResponse, req: IncomingMessage): void {
  const { response } = upstream;
  if (req.method !== 'GET' && req.method !== 'HEAD') return;
  const range = headerString(req, 'range');
  if (response.statusCode === 206 && range !== undefined && /\/0$/.test(String(response.headers['content-range'] ?? ''))) {
    response.destroy();
    throw new S3Error('InvalidRange', 'The requested range is not satisfiable', { RangeRequested: range, ActualObjectSize: '0' });
  }
  const ifMatch = headerString(req, 'if-match');
  const served = response.headers.etag;
  const ok = response.statusCode === 200 || response.statusCode === 206;
  if (ifMatch !== undefined && ok && !etagMatches(ifMatch, served)) {
    response.destroy();
    throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
  }
}

function etagMatches(condition: string, served: string | undefined): boolean {
  const bare = (tag: string) => tag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
  if (served === undefined) return false;
  return condition.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(served));
}

async function relay(upstream: UpstreamResponse, res: ServerResponse, requestId: string): Promise<void> {
  const { response } = upstream;
  const headers: OutgoingHttpHeaders = { 'x-amz-request-id': requestId };
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined && !NOT_RELAYED.has(name)) headers[name] = value;
  }
  res.writeHead(response.statusCode ?? 502, headers);
  await pipeline(response, res);
}

function sendError(req: IncomingMessage, res: ServerResponse, error: S3Error, requestId: string, continued: boolean): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = renderErrorXml(error, requestId);
  const headers: OutgoingHttpHeaders = {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    'x-amz-request-id': requestId,
  };
  // A client told to wait for 100-continue never sends its body; do not leave
  // the connection in an ambiguous state for the next request.
  if (!continued) headers.connection = 'close';
  res.writeHead(error.status, headers);
  res.end(body);
  // Discard (not buffer) whatever of the body is still coming, so the error reaches the client.
  if (!req.complete) req.resume();
}
