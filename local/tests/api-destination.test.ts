// The local API destination target against a receiver on 127.0.0.1: which answers are retried
// (as EventBridge documents: 401, 407, 409, 429, 5xx and timeouts), the timeout itself, the
// authorization headers, Retry-After, and the invocation rate limit.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiDestinationError, ApiDestinationTarget, parseRetryAfter } from '../eventbridge/api-destination.ts';
import type { LocalApiDestination, LocalConnection } from '../template.ts';

let server: Server;
let url = '';
const seen: { at: number; path: string; headers: IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ at: Date.now(), path: req.url ?? '', headers: req.headers });
    const status = Number((req.url ?? '').split('?')[0]!.split('/')[1]);
    if (status === 0) return; // never answers
    res.writeHead(status, status === 302 ? { location: '/200' } : {});
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function target(path: string, options: { connection?: LocalConnection; rateLimitPerSecond?: number; timeoutMs?: number; endpoint?: string } = {}) {
  const destination: LocalApiDestination = {
    logicalId: 'Hook',
    name: 'hook',
    arn: 'arn:aws:events:us-east-1:000000000000:api-destination/hook/local',
    endpoint: options.endpoint ?? `${url}${path}`,
    httpMethod: 'POST',
    rateLimitPerSecond: options.rateLimitPerSecond ?? 300,
    connection: options.connection ?? { authorizationType: 'API_KEY', apiKey: { name: 'x-api-key', value: 'k' } },
  };
  return new ApiDestinationTarget(destination, options.timeoutMs);
}

async function failure(invocation: Promise<void>): Promise<ApiDestinationError> {
  const error = await invocation.then(() => undefined, (caught: unknown) => caught);
  if (!(error instanceof ApiDestinationError)) throw new Error(`expected an ApiDestinationError, got ${String(error)}`);
  return error;
}

describe('API destination target', () => {
  it('succeeds on a 2xx', async () => {
    await expect(target('/204').invoke({ id: 1 })).resolves.toBeUndefined();
  });

  it.each([401, 409, 429, 500, 502, 503])('retries a %i', async (status) => {
    expect(await failure(target(`/${status}`).invoke({}))).toMatchObject({ retryable: true, code: String(status) });
  });

  it('retries a 407 (which fetch reports as a failed request)', async () => {
    expect(await failure(target('/407').invoke({}))).toMatchObject({ retryable: true });
  });

  it.each([400, 403, 404, 410, 413, 422, 302])('does not retry a %i', async (status) => {
    expect(await failure(target(`/${status}`).invoke({}))).toMatchObject({ retryable: false, code: String(status) });
    expect(seen.filter((request) => request.path === '/200')).toHaveLength(0); // a redirect is not followed
  });

  it('gives up on an endpoint that does not answer in time, and retries it', async () => {
    const error = await failure(target('/0', { timeoutMs: 200 }).invoke({}));
    expect(error).toMatchObject({ retryable: true, code: 'SDK_CLIENT_ERROR' });
    expect(error.message).toMatch(/no answer within 0.2 seconds/);
  });

  it('retries an endpoint nobody listens on', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await failure(target('/200', { endpoint: `http://127.0.0.1:${port}/` }).invoke({}));
    expect(error).toMatchObject({ retryable: true, code: 'SDK_CLIENT_ERROR' });
  });

  it('sends the API key header, or basic authorization', async () => {
    await target('/200?key').invoke({});
    expect(seen.at(-1)!.headers['x-api-key']).toBe('k');
    await target('/200?basic', { connection: { authorizationType: 'BASIC', basic: { username: 'user', password: 'pa:ss' } } }).invoke({});
    expect(seen.at(-1)!.headers.authorization).toBe(`Basic ${Buffer.from('user:pa:ss').toString('base64')}`);
  });

  it('keeps the Retry-After of a 429 or 503', async () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(Date.now() + 10_000).toUTCString())).toBeGreaterThan(8000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('spaces invocations to the rate limit, queueing the excess rather than failing it', async () => {
    const limited = target('/200?rate', { rateLimitPerSecond: 5 });
    const started = Date.now();
    await Promise.all([1, 2, 3].map((n) => limited.invoke({ n })));
    const arrivals = seen.filter((request) => request.path === '/200?rate').map((request) => request.at);
    expect(arrivals).toHaveLength(3);
    // Five a second: one every 200 ms at the most, so the third is sent 400 ms in at the earliest.
    expect(arrivals[2]! - started).toBeGreaterThanOrEqual(395);
  });
});
