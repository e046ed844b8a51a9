// When a callback the receiver could not take (5xx, 408, 429, no answer) is tried again. The
// callback queue does the waiting, so a receiver that is down for hours still gets the
// notification once it is back, as Stripe, GitHub's redeliveries or Svix would deliver it: the
// delay starts at `firstDelaySeconds` (30 s by default), doubles with each receive, and stops
// growing at 4 hours, until the retry window (a day by default, counted from the blob's end,
// or from a redrive: SQS sends a redriven message anew) is used up. Each delay is drawn between
// half its ceiling and the ceiling ("equal jitter"): callbacks to one receiver that failed
// together do not come back together, and, unlike the labeler's full jitter, no delay is short,
// so a day takes a known number of receives (14 to 20 with the defaults) and the queue's
// maxReceiveCount stays a safety net for crashes.

export const MAX_DELAY_SECONDS = 4 * 3600;

export interface CallbackAttempt {
  /** SQS's ApproximateReceiveCount of the message: 1 on the first attempt. */
  receiveCount: number;
  /** When the blob ended (the final event's occurred_at): the window counts from here... */
  endedAt: Date;
  /**
   * ...or from when the message was sent to the queue, if later (SQS's SentTimestamp): a
   * dead-letter queue's redrive sends each message anew, and it gets a window of its own.
   */
  queuedAt?: Date;
  now: Date;
  windowSeconds: number;
  firstDelaySeconds: number;
  /** What the receiver's Retry-After asked for, if anything: never sooner than that (up to the cap). */
  retryAfterSeconds?: number;
}

/**
 * Seconds to wait before the next attempt, or undefined when it would start after the retry
 * window: then this attempt was the last, and the callback goes to the dead-letter queue.
 */
export function nextCallbackDelay(attempt: CallbackAttempt, random: () => number = Math.random): number | undefined {
  const ceiling = Math.min(MAX_DELAY_SECONDS, attempt.firstDelaySeconds * 2 ** Math.max(0, attempt.receiveCount - 1));
  const backoff = ceiling / 2 + random() * (ceiling / 2);
  const asked = Math.min(MAX_DELAY_SECONDS, attempt.retryAfterSeconds ?? 0);
  const delay = Math.max(backoff, asked);
  const start = Math.max(attempt.endedAt.getTime(), attempt.queuedAt?.getTime() ?? 0);
  const deadline = start + attempt.windowSeconds * 1000;
  return attempt.now.getTime() + delay * 1000 < deadline ? delay : undefined;
}

/**
 * A Retry-After header in seconds (RFC 9110: a number of seconds or an HTTP date), or
 * undefined when it is absent or unreadable.
 */
export function retryAfterSeconds(header: string | undefined, now: Date): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value);
  // An HTTP date is always in GMT (RFC 9110, 5.6.7); Date.parse alone would take "-5" as a year.
  const date = /GMT$/.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now.getTime()) / 1000);
}
