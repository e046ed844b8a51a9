// The callback sender against real sockets on this machine, with the one thing a test cannot
// cause otherwise brought in: a resolver whose answers change between look-ups (DNS
// rebinding). 127.0.0.2 plays a public receiver (the allow-list opens it, as it would be open
// by default), 127.0.0.1 the inside of the network that must never see a request.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseAllowList } from '../../shared/callbacks/address-policy.ts';
import {
  CallbackAddressRefusedError,
  CallbackRejectedError,
  CallbackRetryableError,
  sendCallback,
  type Resolver,
} from '../../shared/callbacks/send-callback.ts';

const secret = 'whsec_Y2FsbGJhY2stdGVzdC1zZWNyZXQtY2FsbGJhY2stdGVzdA==';
const allowList = parseAllowList('127.0.0.2/32');

interface Receiver {
  server: Server;
  requests: string[];
  /** What it answers next: a status, and headers. */
  answers: [number, Record<string, string>?][];
}

function receiver(): Receiver {
  const self: Receiver = {
    requests: [],
    answers: [],
    server: createServer((req, res) => {
      self.requests.push(`${req.method} ${req.url}`);
      const [status, headers] = self.answers.shift() ?? [204];
      res.writeHead(status, headers).end();
    }),
  };
  return self;
}

const outside = receiver(); // 127.0.0.2: where the callback may go
const inside = receiver(); // 127.0.0.1: what rebinding aims at
let port: number;

beforeAll(async () => {
  await new Promise<void>((resolve) => inside.server.listen(0, '127.0.0.1', resolve));
  port = (inside.server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => outside.server.listen(port, '127.0.0.2', resolve));
});
afterAll(async () => {
  await Promise.all([inside, outside].map((r) => new Promise((resolve) => r.server.close(resolve))));
});
beforeEach(() => {
  for (const r of [inside, outside]) {
    r.requests.length = 0;
    r.answers.length = 0;
  }
});

/** Answers `first` to the first look-up and `later` to every one after it; counts them. */
function rebinding(first: string[], later: string[]): Resolver & { calls: number } {
  const resolve = Object.assign(
    async () => {
      const answer = resolve.calls++ === 0 ? first : later;
      return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    },
    { calls: 0 },
  );
  return resolve;
}

const callback = (path: string) => ({ url: `http://hooks.example.com:${port}${path}`, id: 'blob.3', payload: { type: 'blob.completed' } });

describe('the callback connects to the address it checked', () => {
  it('is not turned to 127.0.0.1 by a name that resolves elsewhere first', async () => {
    const resolve = rebinding(['127.0.0.2'], ['127.0.0.1']);
    await expect(sendCallback(callback('/one'), secret, { allowList, resolve })).resolves.toBe(204);
    expect(outside.requests).toEqual(['POST /one']);
    expect(inside.requests).toEqual([]);
    expect(resolve.calls).toBe(1);
  });

  it('checks again on a retry, and refuses it when the name now points inside', async () => {
    const resolve = rebinding(['127.0.0.2'], ['127.0.0.1']);
    outside.answers.push([503]);
    await expect(sendCallback(callback('/flaky'), secret, { allowList, resolve })).rejects.toBeInstanceOf(CallbackRetryableError);
    const retry = sendCallback(callback('/flaky'), secret, { allowList, resolve });
    await expect(retry).rejects.toBeInstanceOf(CallbackAddressRefusedError);
    await expect(retry).rejects.toMatchObject({
      refusal: { reason: 'loopback', address: '127.0.0.1' },
      message: expect.stringContaining('resolves to a loopback address (127.0.0.1)'),
    });
    expect(outside.requests).toEqual(['POST /flaky']);
    expect(inside.requests).toEqual([]);
  });

  it('refuses a name with any refused address among its answers, IPv6 too', async () => {
    for (const answer of [['127.0.0.2', '127.0.0.1'], ['127.0.0.2', '::1'], ['169.254.169.254'], ['::ffff:127.0.0.1']]) {
      const error = await sendCallback(callback('/mixed'), secret, { allowList, resolve: rebinding(answer, answer) }).catch((e: unknown) => e);
      expect(error, answer.join(',')).toBeInstanceOf(CallbackAddressRefusedError);
    }
    expect(outside.requests).toEqual([]);
    expect(inside.requests).toEqual([]);
  });

  it('refuses a literal address before connecting', async () => {
    const resolve = rebinding([], []);
    const literal = { ...callback('/literal'), url: `http://127.0.0.1:${port}/literal` };
    await expect(sendCallback(literal, secret, { allowList, resolve })).rejects.toMatchObject({ refusal: { reason: 'loopback' } });
    expect(inside.requests).toEqual([]);
    expect(resolve.calls).toBe(0);
  });

  it('does not follow a redirect inside', async () => {
    outside.answers.push([302, { location: `http://127.0.0.1:${port}/stolen` }]);
    const resolve = rebinding(['127.0.0.2'], ['127.0.0.2']);
    await expect(sendCallback(callback('/moved'), secret, { allowList, resolve })).rejects.toBeInstanceOf(CallbackRejectedError);
    expect(inside.requests).toEqual([]);
  });

  it('reaches a private address under a host name the operator opened, but never a metadata one', async () => {
    const opened = parseAllowList('HOOKS.example.com.');
    await expect(sendCallback(callback('/opened'), secret, { allowList: opened, resolve: rebinding(['127.0.0.1'], []) })).resolves.toBe(204);
    expect(inside.requests).toEqual(['POST /opened']);
    const metadata = sendCallback(callback('/opened'), secret, { allowList: opened, resolve: rebinding(['169.254.169.254'], []) });
    await expect(metadata).rejects.toMatchObject({ refusal: { reason: 'metadata', address: '169.254.169.254' } });
  });

  it('gives up on a receiver that never answers, as worth retrying', async () => {
    const silent = createServer(() => undefined); // takes the request, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.2', resolve));
    try {
      const url = `http://hooks.example.com:${(silent.address() as AddressInfo).port}/slow`;
      const sending = sendCallback({ ...callback('/slow'), url }, secret, { allowList, resolve: rebinding(['127.0.0.2'], []), timeoutMs: 300 });
      await expect(sending).rejects.toBeInstanceOf(CallbackRetryableError);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('takes a name the resolver cannot find as worth retrying', async () => {
    const resolve: Resolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND hooks.example.com'), { code: 'ENOTFOUND' });
    };
    await expect(sendCallback(callback('/gone'), secret, { allowList, resolve })).rejects.toBeInstanceOf(CallbackRetryableError);
  });
});
