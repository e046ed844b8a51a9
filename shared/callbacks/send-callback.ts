// Webhooks to the client's callback_url, signed the Standard Webhooks way (webhook-id,
// webhook-timestamp, webhook-signature: HMAC-SHA256), so receivers can verify them with
// any Standard Webhooks library and drop duplicates by webhook-id.
//
// The address is checked where the socket is opened, not before: resolving a name once for a
// check and again for the request would let DNS answer a public address to the first and
// 127.0.0.1 to the second (DNS rebinding). Node's own http/https `request` takes a `lookup` that
// its socket uses for its one resolution, so the address checked is the address connected to,
// at no bundle cost (undici, which did the same through a connector, was over half a megabyte).
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { retryAfterSeconds } from './retry-policy.ts';
import { addressRefusal, callbackUrlRefusal, hostAllowListed, normalizeHostname, type CallbackAllowList, type Refusal } from './address-policy.ts';

/** The receiver refused for good (a 4xx other than 408/429, an unsafe address): retrying will not help. */
export class CallbackRejectedError extends Error {
  override readonly name: string = 'CallbackRejectedError';
}

/** The callback's address is one the policy refuses: nothing was sent. */
export class CallbackAddressRefusedError extends CallbackRejectedError {
  override readonly name = 'CallbackAddressRefusedError';
  constructor(
    readonly refusal: Refusal,
    readonly host: string,
  ) {
    super(`callback_url ${refusal.detail}`);
  }
}

/** A failure worth retrying later (5xx, 408, 429, timeouts, network errors). */
export class CallbackRetryableError extends Error {
  override readonly name = 'CallbackRetryableError';
  constructor(
    message: string,
    /** The receiver's Retry-After, in seconds, when it sent one. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export interface Callback {
  url: string;
  /** Stable across retries of the same notification, for the receiver's deduplication. */
  id: string;
  payload: unknown;
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Every address a host name has now; the system resolver unless a test brings its own. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true });

export interface SendOptions {
  allowList: CallbackAllowList;
  resolve?: Resolver;
  timeoutMs?: number;
}

/** The addresses a connection may use, or why not: refused as a whole if any address is. */
function judge(hostname: string, found: ResolvedAddress[], allowList: CallbackAllowList, family: number | undefined): ResolvedAddress[] | Error {
  const hostAllowed = hostAllowListed(hostname, allowList);
  for (const { address } of found) {
    const refusal = addressRefusal(address, allowList, hostAllowed);
    if (refusal) return new CallbackAddressRefusedError({ ...refusal, detail: `host ${hostname} resolves to ${refusal.detail}` }, hostname);
  }
  const usable = family === 4 || family === 6 ? found.filter((a) => a.family === family) : found;
  return usable.length > 0 ? usable : Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' });
}

/** net's `lookup` hook: the one resolution of a connection, checked before the socket is opened. */
function checkedLookup(resolve: Resolver, allowList: CallbackAllowList): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname)
      .then((found) => judge(hostname, found, allowList, options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family))
      .catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))))
      .then((outcome) => {
        if (outcome instanceof Error) callback(outcome, '', 0);
        else if (options.all) callback(null, outcome);
        else callback(null, outcome[0]!.address, outcome[0]!.family);
      });
  };
}

/** The receiver's answer: its status, and the Retry-After it may have sent with it. */
interface Answer {
  status: number;
  retryAfter?: string;
}

/**
 * One POST on a connection of its own (no pooled socket that another look-up vouched for), whose
 * one resolution goes through `lookup`. A redirect is an answer like any other: never followed,
 * since it could lead anywhere, inside the network too. Resolves with the status (and any
 * Retry-After) once the answer's body has been read (and dropped).
 */
function post(url: URL, body: string, headers: OutgoingHttpHeaders, lookup: LookupFunction, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, agent: false, lookup, signal: AbortSignal.timeout(timeoutMs) },
      (response) => {
        response.on('error', reject);
        const retryAfter = response.headers['retry-after'];
        response.on('end', () => resolve({ status: response.statusCode ?? 0, ...(retryAfter !== undefined && { retryAfter }) }));
        response.resume();
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

export async function sendCallback(callback: Callback, signingSecret: string, options: SendOptions): Promise<number> {
  const settings = { resolve: systemResolver, timeoutMs: 10_000, ...options };
  const refusal = callbackUrlRefusal(callback.url, settings.allowList);
  if (refusal) throw new CallbackAddressRefusedError(refusal, URL.canParse(callback.url) ? normalizeHostname(new URL(callback.url).hostname) : '');

  const body = JSON.stringify(callback.payload);
  const now = new Date();
  const signature = new Webhook(signingSecret).sign(callback.id, now, body);
  // A literal address never reaches `lookup` (the socket connects to it directly): check it here.
  const url = new URL(callback.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const literalRefusal = isIP(host) ? addressRefusal(host, settings.allowList) : null;
  if (literalRefusal) throw new CallbackAddressRefusedError({ ...literalRefusal, detail: `points at ${literalRefusal.detail}` }, host);
  let answer: Answer;
  try {
    answer = await post(
      url,
      body,
      {
        'content-type': 'application/json',
        'user-agent': 'image-labeling-webhooks/1',
        'webhook-id': callback.id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signature,
      },
      checkedLookup(settings.resolve, settings.allowList),
      settings.timeoutMs,
    );
  } catch (error) {
    if (error instanceof CallbackAddressRefusedError) throw error;
    throw new CallbackRetryableError(`POST ${callback.url} failed: ${String(error)}`);
  }
  const { status } = answer;
  if (status >= 200 && status < 300) return status;
  if (status >= 500 || status === 408 || status === 429) {
    throw new CallbackRetryableError(`POST ${callback.url} answered ${status}`, retryAfterSeconds(answer.retryAfter, new Date()));
  }
  throw new CallbackRejectedError(`POST ${callback.url} answered ${status}`);
}
