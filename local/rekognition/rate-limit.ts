/**
 * Rekognition's per-account TPS quota, for trying what a burst does: at most N requests in
 * any one-second window are let through; the rest are answered ThrottlingException, as AWS
 * answers above the quota. Throttled requests do not use up the quota.
 */
export class TransactionsPerSecond {
  private readonly accepted: number[] = [];

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`a TPS quota must be a whole number from 1, got ${limit}`);
  }

  /** Takes one transaction if the quota allows it now. */
  tryTake(now = Date.now()): boolean {
    while (this.accepted.length > 0 && this.accepted[0]! <= now - 1000) this.accepted.shift();
    if (this.accepted.length >= this.limit) return false;
    this.accepted.push(now);
    return true;
  }
}
