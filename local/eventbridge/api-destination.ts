// An EventBridge API destination as a rule target: one HTTP request per event, authorized by
// the destination's connection, no faster than its invocation rate limit. What AWS documents
// (EventBridge user guide, "API destinations" and "Authorization methods for connections"):
// - the request times out after 5 seconds; a timed-out request is retried per the target's
//   RetryPolicy (by default 24 hours and 185 attempts), then goes to the dead-letter queue;
// - retried: 401, 407, 409, 429 and 5xx; any other status (other 4xx, 1xx, 3xx) is not, and the
//   event goes straight to the dead-letter queue;
// - OAuth: EventBridge exchanges the client id and secret for a token, keeps it, and fetches a
//   new one when the endpoint answers 401 or 407, or when the token is within 60 seconds of
//   expiring;
// - InvocationRateLimitPerSecond: events beyond it wait their turn (they are not failed).
// AWS does not document whether it honours Retry-After; this stand-in waits at least that long
// (never less than its own backoff), which is what a receiver asking for it wants.
import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalApiDestination, LocalConnection } from '../template.ts';

export const INVOCATION_TIMEOUT_MS = 5_000;
// A token this close to its expiry is renewed before use, as EventBridge does.
const TOKEN_RENEWAL_MARGIN_MS = 60_000;
const RETRIED_STATUSES = new Set([401, 407, 409, 429]);

/** Why an invocation failed, in the terms of EventBridge's dead-letter message attributes. */
export class ApiDestinationError extends Error {
  override readonly name = 'ApiDestinationError';

  constructor(
    /** ERROR_CODE of the dead letter, e.g. SDK_CLIENT_ERROR or the HTTP status as text. */
    readonly code: string,
    message: string,
    readonly retryable: boolean,
    /** The endpoint's Retry-After, in ms, when it sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export class ApiDestinationTarget {
  private nextSlot = 0;
  private token: { value: string; expiresAt: number } | undefined;
  private tokenRequest: Promise<string> | undefined;

  constructor(
    private readonly destination: LocalApiDestination,
    /** EventBridge's is 5 seconds; tests shorten it. */
    private readonly timeoutMs = INVOCATION_TIMEOUT_MS,
  ) {}

  get name(): string {
    return this.destination.name;
  }

  get arn(): string {
    return this.destination.arn;
  }

  /** One invocation with the event as its body; resolves on a 2xx, throws ApiDestinationError otherwise. */
  async invoke(event: unknown): Promise<void> {
    await this.takeRateSlot();
    const { connection } = this.destination;
    const authorization = await this.authorizationHeaders(connection);
    let response: Response;
    try {
      response = await fetch(this.destination.endpoint, {
        method: this.destination.httpMethod,
        headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'Amazon/EventBridge/ApiDestinations', ...authorization },
        body: JSON.stringify(event),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
      throw new ApiDestinationError(
        'SDK_CLIENT_ERROR',
        timedOut ? `no answer within ${this.timeoutMs / 1000} seconds` : `request failed: ${describe(error)}`,
        true,
      );
    }
    // The body is not used; reading it lets the connection be reused.
    await response.arrayBuffer().catch(() => undefined);
    if (response.ok) return;
    // (Node's fetch reports a 407 as a failed request, retried as one, without a new token.)
    if ((response.status === 401 || response.status === 407) && connection.authorizationType === 'OAUTH_CLIENT_CREDENTIALS') {
      this.token = undefined;
    }
    const retryable = RETRIED_STATUSES.has(response.status) || response.status >= 500;
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    throw new ApiDestinationError(
      String(response.status),
      `the endpoint answered ${response.status}${retryable ? '' : ', which is not retried'}`,
      retryable,
      ...(retryAfterMs !== undefined ? [retryAfterMs] : []),
    );
  }

  /** InvocationRateLimitPerSecond: invocations are spaced evenly, the excess waits. */
  private async takeRateSlot(): Promise<void> {
    const now = Date.now();
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + 1000 / this.destination.rateLimitPerSecond;
    if (slot > now) await sleep(slot - now);
  }

  private async authorizationHeaders(connection: LocalConnection): Promise<Record<string, string>> {
    switch (connection.authorizationType) {
      case 'API_KEY':
        return { [connection.apiKey.name]: connection.apiKey.value };
      case 'BASIC':
        return { authorization: basic(connection.basic.username, connection.basic.password) };
      case 'OAUTH_CLIENT_CREDENTIALS':
        return { authorization: `Bearer ${await this.accessToken(connection.oauth)}` };
    }
  }

  private async accessToken(oauth: Extract<LocalConnection, { authorizationType: 'OAUTH_CLIENT_CREDENTIALS' }>['oauth']): Promise<string> {
    if (this.token && this.token.expiresAt - TOKEN_RENEWAL_MARGIN_MS > Date.now()) return this.token.value;
    // Invocations at once share one token request.
    this.tokenRequest ??= this.fetchToken(oauth).finally(() => (this.tokenRequest = undefined));
    return this.tokenRequest;
  }

  // The client credentials grant (RFC 6749 section 4.4): the client authenticates with HTTP
  // basic, the connection's body parameters (grant_type, scope) go form-encoded.
  private async fetchToken(oauth: Extract<LocalConnection, { authorizationType: 'OAUTH_CLIENT_CREDENTIALS' }>['oauth']): Promise<string> {
    const url = new URL(oauth.tokenUrl);
    for (const [key, value] of Object.entries(oauth.queryParameters)) url.searchParams.set(key, value);
    const form = new URLSearchParams(oauth.bodyParameters).toString();
    let response: Response;
    try {
      response = await fetch(url, {
        method: oauth.httpMethod,
        headers: {
          ...oauth.headerParameters,
          authorization: basic(oauth.clientId, oauth.clientSecret),
          accept: 'application/json',
          ...(oauth.httpMethod !== 'GET' && { 'content-type': 'application/x-www-form-urlencoded' }),
        },
        ...(oauth.httpMethod !== 'GET' && { body: form }),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new ApiDestinationError('OAUTH_TOKEN_ERROR', `the token endpoint did not answer: ${describe(error)}`, true);
    }
    const body = (await response.json().catch(() => undefined)) as { access_token?: unknown; expires_in?: unknown } | undefined;
    if (!response.ok || typeof body?.access_token !== 'string') {
      // A token endpoint that refuses or answers nonsense may be fixed by the next attempt
      // (the event keeps its retry policy); EventBridge deauthorizes the connection instead.
      throw new ApiDestinationError('OAUTH_TOKEN_ERROR', `the token endpoint answered ${response.status} without an access_token`, true);
    }
    const lifetimeSeconds = typeof body.expires_in === 'number' ? body.expires_in : 3600;
    this.token = { value: body.access_token, expiresAt: Date.now() + lifetimeSeconds * 1000 };
    return body.access_token;
  }
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Retry-After: delay-seconds or an HTTP-date (RFC 9110 section 10.2.3). */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
  return String(error);
}
