import { describe, expect, it } from 'vitest';
import { RouteThrottle } from '../throttle.ts';

describe('route throttle (token bucket)', () => {
  it('takes the burst at once, then refuses with the wait until the next token', () => {
    let now = 0;
    const throttle = new RouteThrottle({ burstLimit: 3, rateLimit: 0.5 }, () => now);
    expect([1, 2, 3].map(() => throttle.take('GET /blobs').allowed)).toEqual([true, true, true]);
    expect(throttle.take('GET /blobs')).toEqual({ allowed: false, retryAfterSeconds: 2 });
    now = 1000;
    expect(throttle.take('GET /blobs')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now = 2000;
    expect(throttle.take('GET /blobs').allowed).toBe(true);
    expect(throttle.take('GET /blobs').allowed).toBe(false);
  });

  it('keeps a bucket per route', () => {
    const throttle = new RouteThrottle({ burstLimit: 1, rateLimit: 1 }, () => 0);
    expect(throttle.take('POST /blobs').allowed).toBe(true);
    expect(throttle.take('POST /blobs').allowed).toBe(false);
    expect(throttle.take('GET /blobs').allowed).toBe(true);
  });

  it('refills at the rate, never beyond the burst', () => {
    let now = 0;
    const throttle = new RouteThrottle({ burstLimit: 2, rateLimit: 10 }, () => now);
    now = 60_000; // a minute idle still leaves only the burst
    expect([1, 2, 3].map(() => throttle.take('r').allowed)).toEqual([true, true, false]);
    now += 100; // one token at 10/s
    expect([1, 2].map(() => throttle.take('r').allowed)).toEqual([true, false]);
  });

  it('refuses limits that would never let a request through', () => {
    expect(() => new RouteThrottle({ burstLimit: 0, rateLimit: 1 })).toThrow();
    expect(() => new RouteThrottle({ burstLimit: 1, rateLimit: 0 })).toThrow();
  });
});
