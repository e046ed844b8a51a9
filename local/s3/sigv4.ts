import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import { ALGORITHM_IDENTIFIER, SignatureV4, getCanonicalHeaders } from '@smithy/signature-v4';
import type { Checksum, HttpRequest, SourceData } from '@smithy/types';
import { S3Error } from './errors.ts';
import { queryValue, toQueryBag, type RequestTarget } from './request-target.ts';

// Verification of AWS Signature Version 4 as S3 receives it. The canonical
// request, string to sign and signing key all come from @smithy/signature-v4
// (the signer the SDK itself uses), so client and server cannot drift apart
// on canonicalisation details; this module only decides WHAT to feed it (the
// headers the client claims to have signed, the payload hash it declared, the
// date and scope it used) and then compares in constant time.

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface SignedRequest {
  readonly method: string;
  readonly target: RequestTarget;
  /** Header values by lower-case name, repeated headers kept apart (IncomingMessage.headersDistinct). */
  readonly headers: Readonly<Record<string, readonly string[] | undefined>>;
}

export interface VerifierConfig {
  readonly credentials: Credentials;
  readonly region: string;
  readonly now: Date;
}

export interface SigningScope {
  readonly longDate: string;
  readonly shortDate: string;
  readonly region: string;
  readonly service: string;
}

export type PayloadMode = { readonly kind: 'unsigned' } | { readonly kind: 'sha256'; readonly hex: string };

export interface Authenticated {
  readonly via: 'query' | 'header';
  readonly payload: PayloadMode;
}

export const MAX_PRESIGNED_EXPIRES_SECONDS = 7 * 24 * 60 * 60;
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
const SERVICE = 's3';
const TERMINATOR = 'aws4_request';

/** The X-Amz-* query parameters that carry presigned-URL authentication. */
export const QUERY_AUTH_PARAMS: ReadonlySet<string> = new Set(
  [
    'X-Amz-Algorithm',
    'X-Amz-Credential',
    'X-Amz-Date',
    'X-Amz-Expires',
    'X-Amz-SignedHeaders',
    'X-Amz-Signature',
    'X-Amz-Security-Token',
    'X-Amz-Content-Sha256',
  ].map((name) => name.toLowerCase()),
);

interface AuthFields {
  readonly via: 'query' | 'header';
  readonly credential: string;
  readonly longDate: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  readonly payloadHash: string;
  readonly expiresSeconds?: number;
}

/**
 * Verifies the request's signature (header or presigned query). Throws S3Error
 * with S3's code for the failure; the body is not read here (see body.ts).
 */
export async function authenticate(request: SignedRequest, config: VerifierConfig): Promise<Authenticated> {
  const fields = readAuthFields(request);
  checkAccessKey(fields, config.credentials);
  const scope = parseCredentialScope(fields, config);
  checkSecurityToken(request);
  checkSignedHeaderCoverage(request, fields);
  const payload = parsePayloadMode(fields.payloadHash, fields.via);
  await verifyRequestSignature(new SigV4Calculator(config.credentials), request, fields, scope);
  checkTime(fields, config.now);
  return { via: fields.via, payload };
}

function readAuthFields(request: SignedRequest): AuthFields {
  const authorization = request.headers['authorization'];
  const hasQueryAuth = queryValue(request.target, 'X-Amz-Algorithm') !== undefined;
  if (authorization !== undefined && hasQueryAuth) {
    throw new S3Error(
      'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
    );
  }
  if (hasQueryAuth) return readQueryAuth(request.target);
  if (authorization !== undefined) return readHeaderAuth(authorization.join(','), request);
  throw new S3Error('AccessDenied', 'Access Denied');
}

function readQueryAuth(target: RequestTarget): AuthFields {
  const required = (name: string): string => {
    const value = queryValue(target, name);
    if (value === undefined || value === '') {
      throw new S3Error(
        'AuthorizationQueryParametersError',
        'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
      );
    }
    return value;
  };
  if (required('X-Amz-Algorithm') !== ALGORITHM_IDENTIFIER) {
    throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  }
  return {
    via: 'query',
    credential: required('X-Amz-Credential'),
    longDate: required('X-Amz-Date'),
    signedHeaders: required('X-Amz-SignedHeaders').split(';'),
    signature: required('X-Amz-Signature'),
    // Presigned S3 URLs sign UNSIGNED-PAYLOAD unless a hash was hoisted into the query.
    payloadHash: queryValue(target, 'X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD',
    expiresSeconds: parseExpires(required('X-Amz-Expires')),
  };
}

function parseExpires(text: string): number {
  if (!/^\d+$/.test(text)) {
    throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires should be a number');
  }
  const seconds = Number(text);
  if (seconds > MAX_PRESIGNED_EXPIRES_SECONDS) {
    throw new S3Error(
      'AuthorizationQueryParametersError',
      'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds',
    );
  }
  return seconds;
}

function readHeaderAuth(authorization: string, request: SignedRequest): AuthFields {
  const match = /^(\S+)\s+(.*)$/s.exec(authorization.trim());
  const algorithm = match?.[1];
  if (algorithm !== ALGORITHM_IDENTIFIER) {
    throw new S3Error('InvalidArgument', 'Unsupported Authorization Type', {
      ArgumentName: 'Authorization',
      ArgumentValue: authorization,
    });
  }
  const components = parseAuthComponents(match?.[2] ?? '');
  const payloadHash = singleHeader(request, 'x-amz-content-sha256');
  if (payloadHash === undefined) {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  }
  const longDate = singleHeader(request, 'x-amz-date');
  if (longDate === undefined) {
    throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  }
  return {
    via: 'header',
    credential: components.Credential,
    longDate,
    signedHeaders: components.SignedHeaders.split(';'),
    signature: components.Signature,
    payloadHash,
  };
}

function parseAuthComponents(text: string): Record<'Credential' | 'SignedHeaders' | 'Signature', string> {
  const entries = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) entries.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const get = (name: string): string => {
    const value = entries.get(name);
    if (!value) {
      throw new S3Error(
        'AuthorizationHeaderMalformed',
        `The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.`,
      );
    }
    return value;
  };
  return { Credential: get('Credential'), SignedHeaders: get('SignedHeaders'), Signature: get('Signature') };
}

function singleHeader(request: SignedRequest, name: string): string | undefined {
  return request.headers[name]?.join(',');
}

function malformed(fields: AuthFields, message: string): S3Error {
  return fields.via === 'query'
    ? new S3Error('AuthorizationQueryParametersError', message)
    : new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${message}`);
}

function parseCredentialScope(fields: AuthFields, config: VerifierConfig): SigningScope {
  const parts = fields.credential.split('/');
  const [, shortDate, region, service, terminator] = parts;
  if (parts.length !== 5 || !shortDate || !region || !service || !terminator) {
    throw malformed(fields, `the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
  }
  if (!/^\d{8}T\d{6}Z$/.test(fields.longDate)) {
    throw malformed(fields, `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
  }
  if (shortDate !== fields.longDate.slice(0, 8)) {
    throw malformed(fields, `Invalid credential date "${shortDate}". This date is not the same as X-Amz-Date: "${fields.longDate.slice(0, 8)}".`);
  }
  if (region !== config.region) {
    throw malformed(fields, `the region '${region}' is wrong; expecting '${config.region}'`);
  }
  if (service !== SERVICE || terminator !== TERMINATOR) {
    throw malformed(fields, `incorrect service "${service}" or terminal "${terminator}"; expecting "${SERVICE}" and "${TERMINATOR}".`);
  }
  return { longDate: fields.longDate, shortDate, region, service };
}

function checkAccessKey(fields: AuthFields, credentials: Credentials): void {
  const accessKeyId = fields.credential.split('/')[0] ?? '';
  if (accessKeyId !== credentials.accessKeyId) {
    throw new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', {
      AWSAccessKeyId: accessKeyId,
    });
  }
}

// There is no STS here, so no session token can be genuine; accepting one
// would hide a misconfigured client that would fail against real S3.
function checkSecurityToken(request: SignedRequest): void {
  const token = request.headers['x-amz-security-token'] ?? queryValue(request.target, 'X-Amz-Security-Token');
  if (token !== undefined) {
    throw new S3Error('InvalidToken', 'The provided token is malformed or otherwise invalid.');
  }
}

// S3 refuses x-amz-* headers that are present but unsigned: otherwise anyone
// holding a presigned PUT could, say, add x-amz-copy-source and turn it into a
// copy of another object.
function checkSignedHeaderCoverage(request: SignedRequest, fields: AuthFields): void {
  if (!fields.signedHeaders.includes('host')) {
    throw malformed(fields, 'SignedHeaders must include host.');
  }
  const signed = new Set(fields.signedHeaders);
  const unsigned = Object.keys(request.headers).filter(
    (name) => name.startsWith('x-amz-') && !signed.has(name) && request.headers[name] !== undefined,
  );
  if (unsigned.length > 0) {
    throw new S3Error('AccessDenied', 'There were headers present in the request which were not signed', {
      HeadersNotSigned: unsigned.join(', '),
    });
  }
}

function parsePayloadMode(payloadHash: string, via: AuthFields['via']): PayloadMode {
  if (/^[0-9a-f]{64}$/.test(payloadHash)) return { kind: 'sha256', hex: payloadHash };
  if (payloadHash === 'UNSIGNED-PAYLOAD') return { kind: 'unsigned' };
  // Streaming (aws-chunked) uploads are what an SDK sends for a body it cannot measure (a
  // stream). Nothing of the product makes one (its uploads are presigned PUTs of a known
  // length), so the local S3 refuses them clearly rather than carry a decoder nothing uses.
  if (payloadHash.startsWith('STREAMING-')) {
    throw new S3Error(
      'NotImplemented',
      `A header you provided implies functionality that is not implemented: the local S3 does not take streaming (aws-chunked) uploads (x-amz-content-sha256: ${payloadHash}); send the body with its length, as a presigned PUT or an SDK upload of a Buffer or string does.`,
      { Header: 'x-amz-content-sha256' },
    );
  }
  throw new S3Error(
    'InvalidArgument',
    `x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value (${via} auth).`,
    { ArgumentName: 'x-amz-content-sha256', ArgumentValue: payloadHash },
  );
}

async function verifyRequestSignature(
  signer: SigV4Calculator,
  request: SignedRequest,
  fields: AuthFields,
  scope: SigningScope,
): Promise<void> {
  const computed = await signer.requestSignature(request, fields, scope);
  if (!signaturesEqual(fields.signature, computed.signature)) {
    throw new S3Error(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      {
        AWSAccessKeyId: fields.credential.split('/')[0] ?? '',
        StringToSign: computed.stringToSign,
        CanonicalRequest: computed.canonicalRequest,
      },
    );
  }
}

function checkTime(fields: AuthFields, now: Date): void {
  const signedAt = parseLongDate(fields.longDate);
  if (fields.expiresSeconds === undefined) {
    if (Math.abs(now.getTime() - signedAt.getTime()) > MAX_CLOCK_SKEW_MS) {
      throw new S3Error('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {
        RequestTime: fields.longDate,
        ServerTime: now.toISOString(),
        MaxAllowedSkewMilliseconds: String(MAX_CLOCK_SKEW_MS),
      });
    }
    return;
  }
  // A URL "signed in the future" would otherwise stay valid for longer than its X-Amz-Expires.
  if (signedAt.getTime() - now.getTime() > MAX_CLOCK_SKEW_MS) {
    throw new S3Error('AccessDenied', 'Request is not yet valid', { ServerTime: now.toISOString() });
  }
  const expiresAt = new Date(signedAt.getTime() + fields.expiresSeconds * 1000);
  if (now.getTime() > expiresAt.getTime()) {
    throw new S3Error('AccessDenied', 'Request has expired', {
      'X-Amz-Expires': String(fields.expiresSeconds),
      Expires: expiresAt.toISOString(),
      ServerTime: now.toISOString(),
    });
  }
}

export function parseLongDate(longDate: string): Date {
  const iso = longDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z');
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  }
  return date;
}

/** Constant-time comparison of two lower-case hex SHA-256 signatures. */
export function signaturesEqual(provided: string, expected: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(provided) || !/^[0-9a-f]{64}$/.test(expected)) return false;
  return timingSafeEqual(Buffer.from(provided, 'hex'), Buffer.from(expected, 'hex'));
}

export function credentialScope(scope: SigningScope): string {
  return `${scope.shortDate}/${scope.region}/${scope.service}/${TERMINATOR}`;
}

interface ComputedSignature {
  readonly signature: string;
  readonly stringToSign: string;
  readonly canonicalRequest: string;
}

// Subclassing exposes the library's protected canonical-request and
// string-to-sign builders; its public presign()/sign() would re-derive which
// headers to sign and hoist x-amz-* headers into the query, which is right for
// a client but wrong for checking what a client actually signed.
class SigV4Calculator extends SignatureV4 {
  constructor(credentials: Credentials) {
    super({
      service: SERVICE,
      region: 'unused-the-scope-region-is-passed-per-call',
      credentials,
      sha256: NodeSha256,
      uriEscapePath: false, // S3 signs the path exactly as sent
      applyChecksum: false,
    });
  }

  async requestSignature(request: SignedRequest, fields: AuthFields, scope: SigningScope): Promise<ComputedSignature> {
    const httpRequest = toHttpRequest(request, fields.signedHeaders);
    const canonicalHeaders = getCanonicalHeaders(httpRequest, undefined, new Set(fields.signedHeaders));
    const canonicalRequest = this.createCanonicalRequest(httpRequest, canonicalHeaders, fields.payloadHash);
    const stringToSign = await this.createStringToSign(
      scope.longDate,
      credentialScope(scope),
      canonicalRequest,
      ALGORITHM_IDENTIFIER,
    );
    return { signature: await this.signWithScope(stringToSign, scope), stringToSign, canonicalRequest };
  }

  private signWithScope(stringToSign: string, scope: SigningScope): Promise<string> {
    return this.sign(stringToSign, {
      signingDate: parseLongDate(scope.longDate),
      signingRegion: scope.region,
      signingService: scope.service,
    });
  }
}

function toHttpRequest(request: SignedRequest, signedHeaders: readonly string[]): HttpRequest {
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const values = request.headers[name];
    // Repeated headers are canonicalised as one comma-separated value.
    if (values !== undefined) headers[name] = values.join(',');
  }
  return {
    method: request.method,
    protocol: 'http:',
    hostname: '',
    path: request.target.path,
    query: toQueryBag(request.target.params),
    headers,
  };
}

// SignatureV4 wants a hash constructor; node:crypto is the well-kept
// implementation at hand (constructed with a key it is an HMAC).
export class NodeSha256 implements Checksum {
  private hash: Hash | Hmac;

  constructor(private readonly secret?: SourceData) {
    this.hash = this.create();
  }

  update(data: Uint8Array): void {
    this.hash.update(data);
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }

  reset(): void {
    this.hash = this.create();
  }

  private create(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}
