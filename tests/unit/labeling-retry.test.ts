// When a throttled labeling is tried again: a delay that grows with each receive, or one
// paced by the queue's backlog when Rekognition throttled, and no further try once it would
// start past the labeling timeout.
import { describe, expect, it } from 'vitest';
import { MAX_DELAY_SECONDS, nextAttemptDelay } from '../../shared/labeling/retry-policy.ts';
import { TransactionsPerSecond } from '../../local/rekognition/rate-limit.ts';

const uploadedAt = new Date('2026-12-05T08:00:00Z');
const at = (seconds: number) => new Date(uploadedAt.getTime() + seconds * 1000);
const largest = () => 0.999_999;

describe('the labeling retry delay', () => {
  it('doubles its ceiling with each receive, up to five minutes', () => {
    const ceilings = [1, 2, 3, 4, 5, 9, 12, 30].map((receiveCount) =>
      Math.round(nextAttemptDelay({ receiveCount, uploadedAt, now: uploadedAt, labelingTimeoutSeconds: 86_400 }, largest)!),
    );
    expect(ceilings).toEqual([1, 2, 4, 8, 16, 256, MAX_DELAY_SECONDS, MAX_DELAY_SECONDS]);
  });

  it('is random below its ceiling (jitter), so a throttled burst does not come back at once', () => {
    const delays = [0, 0.25, 0.5].map((r) => nextAttemptDelay({ receiveCount: 4, uploadedAt, now: uploadedAt, labelingTimeoutSeconds: 3600 }, () => r));
    expect(delays).toEqual([0, 2, 4]);
  });

  it('gives up (undefined: this attempt is the last) when the next one would start after the labeling timeout', () => {
    const attempt = { receiveCount: 4, uploadedAt, labelingTimeoutSeconds: 60 };
    expect(nextAttemptDelay({ ...attempt, now: at(50) }, largest)).toBeCloseTo(8);
    expect(nextAttemptDelay({ ...attempt, now: at(53) }, largest)).toBeUndefined();
  });
});

describe('the labeling retry delay when Rekognition throttled, paced by the backlog', () => {
  const throttled = (receiveCount: number, messages: number) => ({
    receiveCount,
    uploadedAt,
    now: uploadedAt,
    labelingTimeoutSeconds: 86_400,
    backlog: { messages, transactionsPerSecond: 2 },
  });

  it('spreads throttled images over the time the backlog takes to drain at the quota, whatever their receive count', () => {
    // 40 messages at 2 a second drain in 20 s: retries drawn below 20 s arrive at about 2 a second.
    expect(nextAttemptDelay(throttled(1, 40), largest)).toBeCloseTo(20);
    expect(nextAttemptDelay(throttled(4, 40), largest)).toBeCloseTo(20);
    expect(nextAttemptDelay(throttled(1, 40), () => 0.5)).toBeCloseTo(10);
  });

  it('shrinks with the backlog, never under a second: the last images do not wait behind a long backoff', () => {
    expect(nextAttemptDelay(throttled(4, 3), largest)).toBeCloseTo(1.5);
    expect(nextAttemptDelay(throttled(4, 1), largest)).toBeCloseTo(1);
    // Plain backoff would have grown to 8 s by the fourth receive.
    expect(nextAttemptDelay({ ...throttled(4, 3), backlog: undefined }, largest)).toBeCloseTo(8);
  });

  it('doubles after four receives, in case the account allows less than the setting, up to five minutes', () => {
    expect([5, 6, 7, 12].map((receiveCount) => Math.round(nextAttemptDelay(throttled(receiveCount, 10), largest)!))).toEqual([10, 20, 40, MAX_DELAY_SECONDS]);
  });

  it('still gives up when the next attempt would start after the labeling timeout', () => {
    expect(nextAttemptDelay({ ...throttled(1, 400), labelingTimeoutSeconds: 100 }, largest)).toBeUndefined();
  });
});

describe("the local Rekognition's TPS quota", () => {
  it('lets N requests through in any second and refuses the rest, which do not use up the quota', () => {
    const quota = new TransactionsPerSecond(2);
    expect([0, 100, 200, 999].map((t) => quota.tryTake(t))).toEqual([true, true, false, false]);
    expect(quota.tryTake(1000)).toBe(true); // the first one has left the window
    expect(quota.tryTake(1050)).toBe(false);
    expect(quota.tryTake(1100)).toBe(true);
  });
});
