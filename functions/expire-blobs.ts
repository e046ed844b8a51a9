// On a schedule: blobs whose upload never came, past their URL's expiry plus a grace
// period, become EXPIRED. The grace lets an upload that S3 accepted just in time be
// recorded first; whichever append comes second sees the other and does nothing.
import { runCommand } from '../shared/blob/commands.ts';
import { decideExpire } from '../shared/blob/decisions.ts';
import { config } from '../shared/config.ts';
import { eventStore } from '../shared/event-store/index.ts';
import { logger } from '../shared/logger.ts';
import { blobProjection } from '../shared/read-model/index.ts';
import { eventHandler } from '../shared/lambda/event-handler.ts';

async function expireBlobs(): Promise<{ expired: number }> {
  const now = new Date();
  const { expiryGraceSeconds } = config();
  const cutoff = new Date(now.getTime() - expiryGraceSeconds * 1000).toISOString();
  let expired = 0;
  for await (const row of blobProjection().waitingSince(cutoff)) {
    const { event } = await runCommand(eventStore(), row.blob_id, (state) =>
      state ? decideExpire(state, now, expiryGraceSeconds) : null,
    );
    if (event) {
      expired++;
      logger.info('blob expired', { blob_id: row.blob_id });
    }
  }
  return { expired };
}

export const handler = eventHandler(expireBlobs);
