// When a labeling that failed for a passing reason (throttling, a timeout, a 5xx) is tried
// again. The labeling queue does the patient retrying, so a burst above Rekognition's quota
// spreads out over time instead of failing images: 1 s after the first receive, doubling with
// each receive up to 5 minutes, with "full jitter" (a random delay up to that ceiling), which
// AWS's own study of backoff found to finish a contended burst soonest with the fewest calls.

export const FIRST_DELAY_SECONDS = 1;
export const MAX_DELAY_SECONDS = 300;

/**
 * Seconds to wait before the next attempt, or undefined when that attempt would start after
 * the labeling timeout (counted from the upload): then this attempt is the last.
 */
export function nextAttemptDelay(
  attempt: { receiveCount: number; uploadedAt: Date; now: Date; labelingTimeoutSeconds: number },
  random: () => number = Math.random,
): number | undefined {
  const ceiling = Math.min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2 ** Math.max(0, attempt.receiveCount - 1));
  const delay = random() * ceiling;
  const deadline = attempt.uploadedAt.getTime() + attempt.labelingTimeoutSeconds * 1000;
  return attempt.now.getTime() + delay * 1000 < deadline ? delay : undefined;
}
