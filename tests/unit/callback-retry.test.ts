// When a callback the receiver could not take is tried again: delays that grow from the first
// one to a cap, jittered but never shrinking, at least what a Retry-After asks for, and no
// attempt past the retry window. The queue's maxReceiveCount must stay above the receives the
// longest window takes, or a callback would be dead-lettered before its window is used up.
import { describe, expect, it } from 'vitest';
import { MAX_DELAY_SECONDS, nextCallbackDelay, retryAfterSeconds, type CallbackAttempt } from '../../shared/callbacks/retry-policy.ts';
import { loadTestTemplate } from '../support/template.ts';

const endedAt = new Date('2026-12-05T08:00:00Z');
const at = (seconds: number) => new Date(endedAt.getTime() + seconds * 1000);
const attempt = (receiveCount: number, more: Partial<CallbackAttempt> = {}): CallbackAttempt => ({
  receiveCount,
  endedAt,
  now: endedAt,
  windowSeconds: 86_400,
  firstDelaySeconds: 30,
  ...more,
});
const largest = () => 0.999_999;
const smallest = () => 0;

/** The receives a callback that always fails gets in its window, each delay drawn by `random`. */
function receivesIn(windowSeconds: number, random: () => number): number {
  let elapsed = 0;
  for (let receiveCount = 1; ; receiveCount++) {
    const delay = nextCallbackDelay(attempt(receiveCount, { windowSeconds, now: at(elapsed) }), random);
    if (delay === undefined) return receiveCount;
    elapsed += Math.ceil(delay); // SQS takes whole seconds
  }
}

describe('the callback retry delay', () => {
  it('doubles its ceiling with each receive from the first delay, up to 4 hours', () => {
    const ceilings = [1, 2, 3, 5, 9, 10, 20].map((receiveCount) => Math.round(nextCallbackDelay(attempt(receiveCount), largest)!));
    expect(ceilings).toEqual([30, 60, 120, 480, 7680, MAX_DELAY_SECONDS, MAX_DELAY_SECONDS]);
    expect(MAX_DELAY_SECONDS).toBe(4 * 3600);
  });

  it('is random between half its ceiling and the ceiling: spread out, and never short', () => {
    expect([0, 0.5, largest()].map((r) => Math.round(nextCallbackDelay(attempt(3), () => r)!))).toEqual([60, 90, 120]);
    for (let receiveCount = 1; receiveCount < 15; receiveCount++) {
      expect(nextCallbackDelay(attempt(receiveCount + 1), smallest)).toBeGreaterThanOrEqual(nextCallbackDelay(attempt(receiveCount), smallest)!);
    }
  });

  it('waits at least what Retry-After asks for, up to the cap', () => {
    expect(nextCallbackDelay(attempt(1, { retryAfterSeconds: 600 }), largest)).toBe(600);
    expect(nextCallbackDelay(attempt(1, { retryAfterSeconds: 5 }), smallest)).toBe(15);
    expect(nextCallbackDelay(attempt(1, { retryAfterSeconds: 10 * 86_400 }), smallest)).toBe(MAX_DELAY_SECONDS);
  });

  it('gives up (undefined) when the next attempt would start after the window, counted from the blob end', () => {
    expect(nextCallbackDelay(attempt(12, { now: at(86_400 - 14_401) }), largest)).toBeGreaterThan(14_399);
    expect(nextCallbackDelay(attempt(12, { now: at(86_400 - 14_399) }), largest)).toBeUndefined();
    expect(nextCallbackDelay(attempt(1, { windowSeconds: 0 }))).toBeUndefined();
  });

  it('takes a known number of receives for a window, under the callback queue maxReceiveCount', () => {
    expect([receivesIn(86_400, largest), receivesIn(86_400, smallest)]).toEqual([14, 20]);
    const longest = receivesIn(604_800, smallest);
    expect(longest).toBe(92);
    const queue = loadTestTemplate().queues.find((candidate) => candidate.logicalId === 'CallbackQueue')!;
    expect(queue.redrive!.maxReceiveCount).toBeGreaterThan(longest);
  });
});

describe('Retry-After', () => {
  const now = new Date('2026-12-05T08:00:00Z');
  it('reads seconds and HTTP dates, and ignores what it cannot read', () => {
    expect(retryAfterSeconds('120', now)).toBe(120);
    expect(retryAfterSeconds('Sat, 05 Dec 2026 08:05:00 GMT', now)).toBe(300);
    expect(retryAfterSeconds('Sat, 05 Dec 2026 07:00:00 GMT', now)).toBe(0);
    expect(retryAfterSeconds('soon', now)).toBeUndefined();
    expect(retryAfterSeconds('-5', now)).toBeUndefined();
    expect(retryAfterSeconds(undefined, now)).toBeUndefined();
  });
});
