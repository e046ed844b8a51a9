// On a schedule, the two ways a blob could otherwise never end:
// - never uploaded: EXPIRED once its URL expired plus a grace period (the grace lets an
//   upload S3 accepted just in time be recorded first; the second append sees the first);
// - labeling that never reported back (deliveries exhausted): LABELING_FAILED after a timeout.
import { runCommand } from '../shared/blob/commands.ts';
import { decideExpire, decideLabelingTimeout } from '../shared/blob/decisions.ts';
import type { BlobEvent } from '../shared/blob/events.ts';
import type { BlobState } from '../shared/blob/state.ts';
import { config } from '../shared/config.ts';
import { eventStore } from '../shared/event-store/index.ts';
import { eventHandler } from '../shared/lambda/event-handler.ts';
import { logger } from '../shared/logger.ts';
import { blobProjection, type BlobRow } from '../shared/read-model/index.ts';

async function settle(rows: AsyncGenerator<BlobRow>, decide: (state: BlobState) => BlobEvent | null): Promise<number> {
  let settled = 0;
  for await (const row of rows) {
    const { event } = await runCommand(eventStore(), row.blob_id, (state) => (state ? decide(state) : null));
    if (event) {
      settled++;
      logger.info('blob settled by the sweep', { blob_id: row.blob_id, type: event.type });
    }
  }
  return settled;
}

async function expireBlobs(): Promise<{ expired: number; timedOut: number }> {
  const now = new Date();
  const { expiryGraceSeconds, labelingTimeoutSeconds } = config();
  const before = (seconds: number) => new Date(now.getTime() - seconds * 1000).toISOString();
  const expired = await settle(blobProjection().waitingSince(before(expiryGraceSeconds)), (state) =>
    decideExpire(state, now, expiryGraceSeconds),
  );
  const timedOut = await settle(blobProjection().inProgressSince(before(labelingTimeoutSeconds)), (state) =>
    decideLabelingTimeout(state, now, labelingTimeoutSeconds),
  );
  return { expired, timedOut };
}

export const handler = eventHandler(expireBlobs);
