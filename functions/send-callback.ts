// BlobLabeled / BlobFailed / BlobExpired -> a signed POST to the blob's callback_url. The rule
// delivers only final events that carry a callback_url, so blobs without one never get here;
// the check on the state below stays for one that comes anyway (invoked by hand, a changed rule).
// Retryable failures are thrown so EventBridge redelivers with backoff (for up to a day);
// a receiver that refuses for good, or an address the policy refuses, is logged and left alone.
import type { EventBridgeEvent } from 'aws-lambda';
import { CallbackAddressRefusedError, CallbackRejectedError, sendCallback } from '../shared/callbacks/send-callback.ts';
import type { BlobEvent } from '../shared/blob/events.ts';
import { foldBlob } from '../shared/blob/state.ts';
import { callbackSigningSecret, config } from '../shared/config.ts';
import { eventStore } from '../shared/event-store/index.ts';
import { logger } from '../shared/logger.ts';
import { toSnapshot } from '../shared/read-model/blob-projection.ts';
import { eventHandler } from '../shared/lambda/event-handler.ts';

const typeNames = { BlobLabeled: 'blob.completed', BlobFailed: 'blob.failed', BlobExpired: 'blob.expired' } as const;

async function notify(event: EventBridgeEvent<BlobEvent['type'], BlobEvent>): Promise<void> {
  const { blob_id: blobId, version, type } = event.detail;
  logger.appendKeys({ blob_id: blobId });
  if (!(type in typeNames)) return;
  // The state as of this event: later events must not change what this notification says.
  const state = foldBlob((await eventStore().read(blobId)).filter((e) => e.version <= version));
  if (!state?.callback_url) return;
  try {
    const status = await sendCallback(
      {
        url: state.callback_url,
        id: `${blobId}.${version}`,
        payload: { type: typeNames[type as keyof typeof typeNames], timestamp: event.detail.occurred_at, data: toSnapshot(state) },
      },
      callbackSigningSecret(),
      { allowList: config().callbackAllowList },
    );
    logger.info('callback delivered', { status, version });
  } catch (error) {
    if (error instanceof CallbackAddressRefusedError) {
      // Nothing was sent: the address (from the URL, or what its host resolved to) is not allowed.
      logger.warn('callback address refused; not retried', { refusal: { ...error.refusal, host: error.host }, version });
      return;
    }
    if (error instanceof CallbackRejectedError) {
      logger.warn('callback refused; not retried', { error: error.message });
      return;
    }
    logger.warn('callback failed; will be retried', { error: String(error) });
    throw error;
  }
}

export const handler = eventHandler(notify);
