// When a labeling that failed for a passing reason (throttling, a timeout, a 5xx) is tried
// again. The labeling queue does the patient retrying, so a burst above Rekognition's quota
// spreads out over time instead of failing images. Each delay is drawn at random below a
// ceiling ("full jitter", which AWS's own study of backoff found to finish a contended burst
// soonest with the fewest calls):
// - Throttled, with the queue's backlog known: the time the backlog takes to drain at the
//   deployment's DetectLabels rate (RekognitionTransactionsPerSecond). The images throttled
//   together then come back spread over that time, at about the quota's pace, and as the
//   backlog shrinks so do the delays: no image waits long after the others are done. After
//   four receives of one image the ceiling doubles with each further one, in case the account
//   allows less than the setting says (another application using the same quota).
// - Otherwise (a timeout, a 5xx, or the backlog unknown): 1 s after the first receive,
//   doubling with each receive.
// Both stop growing at 5 minutes.

export const FIRST_DELAY_SECONDS = 1;
export const MAX_DELAY_SECONDS = 300;
/** Receives of one image that trust the rate setting; from the next on, the ceiling doubles. */
export const TRUSTED_RECEIVES = 4;

export interface LabelingAttempt {
  /** SQS's ApproximateReceiveCount: 1 on the first attempt. */
  receiveCount: number;
  uploadedAt: Date;
  now: Date;
  labelingTimeoutSeconds: number;
  /** When Rekognition throttled: the labeling queue's messages (waiting, delayed and being handled) and the rate they drain at. */
  backlog?: { messages: number; transactionsPerSecond: number };
}

/**
 * Seconds to wait before the next attempt, or undefined when that attempt would start after
 * the labeling timeout (counted from the upload): then this attempt is the last.
 */
export function nextAttemptDelay(attempt: LabelingAttempt, random: () => number = Math.random): number | undefined {
  const delay = random() * ceiling(attempt);
  const deadline = attempt.uploadedAt.getTime() + attempt.labelingTimeoutSeconds * 1000;
  return attempt.now.getTime() + delay * 1000 < deadline ? delay : undefined;
}

function ceiling({ receiveCount, backlog }: LabelingAttempt): number {
  const receives = Math.max(1, receiveCount);
  if (backlog) {
    const drainSeconds = backlog.messages / backlog.transactionsPerSecond;
    const doubling = 2 ** Math.max(0, receives - TRUSTED_RECEIVES);
    return Math.min(MAX_DELAY_SECONDS, Math.max(FIRST_DELAY_SECONDS, drainSeconds * doubling));
  }
  return Math.min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2 ** (receives - 1));
}
