// API Gateway's route throttling: a token bucket per route (DefaultRouteSettings), holding up
// to the burst limit and refilled at the rate limit. A request that finds the bucket empty is
// refused with 429 and told when a token will be there (Retry-After).

export interface ThrottleLimits {
  burstLimit: number;
  /** Tokens per second. */
  rateLimit: number;
}

export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export class RouteThrottle {
  private readonly buckets = new Map<string, { tokens: number; updatedMs: number }>();

  constructor(
    private readonly limits: ThrottleLimits,
    private readonly now: () => number = Date.now,
  ) {
    if (!(limits.burstLimit >= 1) || !(limits.rateLimit > 0)) {
      throw new Error(`throttling needs a burst limit of at least 1 and a positive rate, got ${JSON.stringify(limits)}`);
    }
  }

  take(routeKey: string): ThrottleVerdict {
    const now = this.now();
    const { burstLimit, rateLimit } = this.limits;
    const bucket = this.buckets.get(routeKey) ?? { tokens: burstLimit, updatedMs: now };
    bucket.tokens = Math.min(burstLimit, bucket.tokens + ((now - bucket.updatedMs) / 1000) * rateLimit);
    bucket.updatedMs = now;
    this.buckets.set(routeKey, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    // Whole seconds (RFC 9110), rounded up: a client that waits that long finds a token.
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / rateLimit)) };
  }
}
