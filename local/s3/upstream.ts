import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http, { type IncomingMessage, type OutgoingHttpHeaders, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';

// s3rver, run in-process behind the verifying front server on an internal
// ephemeral port. s3rver ships no type declarations, so the small part of it
// used here is typed locally.

interface S3rverEventRecord {
  readonly eventName: string;
  readonly eventTime: string;
  readonly s3: {
    readonly bucket: { readonly name: string };
    readonly object: { readonly key: string; readonly size?: number; readonly eTag?: string };
  };
}

interface S3rverInstance {
  /** Koa's trust-proxy switch: take host, protocol and client IP from X-Forwarded-* headers. */
  proxy: boolean;
  callback(): RequestListener;
  configureBuckets(): Promise<unknown>;
  on(event: 'event', listener: (event: { readonly Records: readonly S3rverEventRecord[] }) => void): unknown;
  readonly store: {
    getMetadata(bucket: string, key: string): Promise<Readonly<Record<string, string | number | undefined>>>;
    /** The file that holds a key's bytes. */
    getResourcePath(bucket: string, key: string, resource: 'object'): string;
  };
}

type S3rverConstructor = new (options: {
  silent: boolean;
  directory: string;
  resetOnClose: boolean;
  vhostBuckets: boolean;
  configureBuckets: ReadonlyArray<{ name: string; configs: readonly string[] }>;
}) => S3rverInstance;

const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

/** What s3rver reported creating while serving one forwarded request. */
export interface UpstreamCreation {
  /** s3rver's event type: Put, Copy, or Post (form upload and completed multipart upload). */
  readonly kind: string;
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly etag?: string;
  readonly time: string;
}

export interface UpstreamRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: OutgoingHttpHeaders;
  /** A spooled body's file, or a small body's bytes. */
  readonly body?: { readonly path: string } | { readonly bytes: Buffer };
}

export interface UpstreamResponse {
  readonly response: IncomingMessage;
  readonly creation?: UpstreamCreation;
}

export interface Upstream {
  forward(request: UpstreamRequest): Promise<UpstreamResponse>;
  objectMetadata(bucket: string, key: string): Promise<{ contentType?: string; etag?: string }>;
  /** A stored object's bytes straight from s3rver's store, for stand-ins of AWS services that read S3 internally. */
  readObject(bucket: string, key: string): Promise<Buffer>;
  close(): Promise<void>;
}

// Header carrying the id that ties an s3rver 'event' to the forwarded request
// that caused it. s3rver emits events synchronously inside its request
// handling, so AsyncLocalStorage around its handler carries the id to them.
const CORRELATION_HEADER = 'x-local-s3-correlation';
// s3rver rejects unknown access keys but ignores SigV4 signatures; its built-in
// dummy account makes it treat forwarded (already verified) requests as signed.
const S3RVER_ACCESS_KEY = 'S3RVER';

/** A bucket's CORS rule (CloudFormation's CorsRules, S3's CORSRule). */
export interface BucketCorsRule {
  readonly allowedMethods: readonly string[];
  readonly allowedOrigins: readonly string[];
  readonly allowedHeaders: readonly string[];
  readonly exposedHeaders: readonly string[];
  readonly maxAgeSeconds?: number;
}

export async function startUpstream(options: {
  directory: string;
  buckets: readonly string[];
  region: string;
  cors?: Readonly<Record<string, readonly BucketCorsRule[]>>;
}): Promise<Upstream> {
  const s3rver = new S3rver({
    silent: true,
    directory: options.directory,
    resetOnClose: false,
    vhostBuckets: false,
    // s3rver answers CORS preflights and adds CORS headers from a bucket's CORSConfiguration.
    configureBuckets: options.buckets.map((name) => {
      const rules = options.cors?.[name] ?? [];
      return { name, configs: rules.length > 0 ? [corsConfigurationXml(rules)] : [] };
    }),
  });
  await s3rver.configureBuckets();
  // Only the front server reaches s3rver, and it sets X-Forwarded-*, so URLs
  // s3rver writes into responses (e.g. a multipart upload's Location) name the public port.
  s3rver.proxy = true;

  const correlation = new AsyncLocalStorage<string>();
  const creations = new Map<string, UpstreamCreation>();
  s3rver.on('event', (event) => recordCreations(event.Records, correlation.getStore(), creations));

  const handler = s3rver.callback();
  const server = http.createServer((req, res) => {
    correlation.run(String(req.headers[CORRELATION_HEADER] ?? ''), () => handler(req, res));
  });
  server.requestTimeout = 0; // large uploads may legitimately take long
  // Connections are reused: a fresh loopback connection per request is overhead on every S3 call.
  // Reuse is safe only if the server never closes an idle connection by itself: with its
  // default 5 s idle timeout, a request could be sent on a socket the server was just
  // closing, and surface as a spurious 500. close() ends the connections instead.
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  return {
    forward: (request) => forward(request, { port, agent, region: options.region, creations }),
    objectMetadata: async (bucket, key) => {
      const metadata = await s3rver.store.getMetadata(bucket, key);
      return { contentType: asString(metadata['content-type']), etag: asString(metadata['etag'])?.replace(/"/g, '') };
    },
    readObject: async (bucket, key) => {
      // One read of the stored file; s3rver's getObject would also read its metadata and MD5.
      try {
        return await readFile(s3rver.store.getResourcePath(bucket, key, 'object'));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`no object ${bucket}/${key}`, { cause: error });
        throw error;
      }
    },
    close: async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

function corsConfigurationXml(rules: readonly BucketCorsRule[]): string {
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const elements = (name: string, values: readonly string[]) => values.map((value) => `<${name}>${escape(value)}</${name}>`).join('');
  const corsRules = rules.map(
    (rule) =>
      '<CORSRule>' +
      elements('AllowedOrigin', rule.allowedOrigins) +
      elements('AllowedMethod', rule.allowedMethods) +
      elements('AllowedHeader', rule.allowedHeaders) +
      elements('ExposeHeader', rule.exposedHeaders) +
      (rule.maxAgeSeconds === undefined ? '' : `<MaxAgeSeconds>${rule.maxAgeSeconds}</MaxAgeSeconds>`) +
      '</CORSRule>',
  );
  return `<CORSConfiguration>${corsRules.join('')}</CORSConfiguration>`;
}

function recordCreations(
  records: readonly S3rverEventRecord[],
  correlationId: string | undefined,
  creations: Map<string, UpstreamCreation>,
): void {
  for (const record of records) {
    if (!correlationId || !record.eventName.startsWith('ObjectCreated:')) continue;
    creations.set(correlationId, {
      kind: record.eventName.slice('ObjectCreated:'.length),
      bucket: record.s3.bucket.name,
      key: record.s3.object.key,
      size: record.s3.object.size ?? 0,
      etag: record.s3.object.eTag,
      time: record.eventTime,
    });
  }
}

interface ForwardContext {
  readonly port: number;
  readonly agent: http.Agent;
  readonly region: string;
  readonly creations: Map<string, UpstreamCreation>;
}

function forward(request: UpstreamRequest, context: ForwardContext): Promise<UpstreamResponse> {
  const correlationId = randomUUID();
  const headers: OutgoingHttpHeaders = {
    ...request.headers,
    ...internalAuthHeaders(context.region, new Date()),
    host: `127.0.0.1:${context.port}`,
    [CORRELATION_HEADER]: correlationId,
  };
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      { host: '127.0.0.1', port: context.port, method: request.method, path: request.target, headers, agent: context.agent },
      (response) => {
        const creation = context.creations.get(correlationId);
        context.creations.delete(correlationId);
        resolve({ response, creation });
      },
    );
    outgoing.on('error', (error) => {
      context.creations.delete(correlationId);
      reject(error);
    });
    if (request.body === undefined) {
      outgoing.end();
      return;
    }
    if ('bytes' in request.body) {
      outgoing.end(request.body.bytes);
      return;
    }
    const body = createReadStream(request.body.path);
    body.on('error', (error) => outgoing.destroy(error));
    body.pipe(outgoing);
  });
}

function internalAuthHeaders(region: string, now: Date): OutgoingHttpHeaders {
  const longDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const scope = `${longDate.slice(0, 8)}/${region}/s3/aws4_request`;
  return {
    authorization: `AWS4-HMAC-SHA256 Credential=${S3RVER_ACCESS_KEY}/${scope}, SignedHeaders=host, Signature=${'0'.repeat(64)}`,
    'x-amz-date': longDate,
    'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
  };
}

function asString(value: string | number | undefined): string | undefined {
  return value === undefined ? undefined : String(value);
}
