// BlobLabeled / BlobFailed / BlobExpired, queued in the callback queue -> a signed POST to the
// blob's callback_url. The rule queues only final events that carry a callback_url; the check
// on the state below stays for one that comes anyway (sent by hand, a changed rule).
// A receiver that cannot take it now (5xx, 408, 429, no answer) gets it again later: the
// message goes back to the queue with a growing delay, with the same webhook-id, until the
// retry window (a day from the blob's end, or from its redrive) is used up; then it is kept in
// the dead-letter queue. A receiver that refuses for good, or an address the policy refuses, is
// logged and left alone.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { CallbackAddressRefusedError, CallbackRejectedError, CallbackRetryableError, sendCallback } from '../shared/callbacks/send-callback.ts';
import { nextCallbackDelay } from '../shared/callbacks/retry-policy.ts';
import type { BlobEvent } from '../shared/blob/events.ts';
import { foldBlob } from '../shared/blob/state.ts';
import { callbackQueues, callbackRetry, callbackSigningSecret, config } from '../shared/config.ts';
import { eventStore } from '../shared/event-store/index.ts';
import { logger } from '../shared/logger.ts';
import { sendToDeadLetterQueue } from '../shared/queue/dead-letter.ts';
import { retryLater } from '../shared/queue/retry-later.ts';
import { toSnapshot } from '../shared/read-model/blob-projection.ts';
import { eventHandler } from '../shared/lambda/event-handler.ts';
import { validate as blobEvent } from '../shared/generated/inputs/blobEvent.js';
import { eventBridgeEvent, jsonString, validated } from '../shared/lambda/parse.ts';

const typeNames = { BlobLabeled: 'blob.completed', BlobFailed: 'blob.failed', BlobExpired: 'blob.expired' } as const;

/** A message of the queue: a blob event, as the EventBridge rule queued it. */
const QueuedBlobEvent = jsonString(eventBridgeEvent(validated(blobEvent)));

/** Sends the callback; throws what is worth another attempt. */
async function notify(event: BlobEvent, log: Logger): Promise<void> {
  const { blob_id: blobId, version, type } = event;
  if (!(type in typeNames)) return;
  // The state as of this event: later events must not change what this notification says.
  const state = foldBlob((await eventStore().read(blobId)).filter((e) => e.version <= version));
  if (!state?.callback_url) return;
  try {
    const status = await sendCallback(
      {
        url: state.callback_url,
        // The same on every attempt: receivers drop duplicates by it.
        id: `${blobId}.${version}`,
        payload: { type: typeNames[type as keyof typeof typeNames], timestamp: event.occurred_at, data: toSnapshot(state) },
      },
      callbackSigningSecret(),
      { allowList: config().callbackAllowList },
    );
    log.info('callback delivered', { status, version });
  } catch (error) {
    if (error instanceof CallbackAddressRefusedError) {
      // Nothing was sent: the address (from the URL, or what its host resolved to) is not allowed.
      log.warn('callback address refused; not retried', { refusal: { ...error.refusal, host: error.host }, version });
      return;
    }
    if (error instanceof CallbackRejectedError) {
      log.warn('callback refused; not retried', { error: error.message });
      return;
    }
    throw error;
  }
}

async function sendQueued(event: SQSEvent) {
  // Per invocation: the processor keeps the batch's state. The batch's callbacks go out together;
  // a batch whose every callback failed is answered like any other, not thrown: each failure
  // was expected and has its delay.
  return processPartialResponse(event, sendMessage, new BatchProcessor(EventType.SQS), { throwOnFullBatchFailure: false });
}

/** One queued final event; a throw reports the message as failed, and it comes back after the delay it was given. */
async function sendMessage(record: SQSRecord): Promise<void> {
  const queues = callbackQueues();
  const parsed = QueuedBlobEvent.safeParse(record.body);
  if (!parsed.success) {
    logger.error('not a queued blob event; kept in the dead-letter queue', { message_id: record.messageId, issues: parsed.error.issues });
    await sendToDeadLetterQueue(queues.deadLetterQueueUrl, record.body, { ERROR_CODE: 'UnreadableMessage', ERROR_MESSAGE: 'not a blob event' });
    return;
  }
  const event = parsed.data.detail;
  // A logger of its own: the batch's records are handled at once, each with its blob's id.
  const log = logger.createChild({ persistentKeys: { blob_id: event.blob_id } });
  try {
    await notify(event, log);
  } catch (error) {
    const receiveCount = Number(record.attributes.ApproximateReceiveCount);
    const retryAfter = error instanceof CallbackRetryableError ? error.retryAfterSeconds : undefined;
    const delay = nextCallbackDelay({
      receiveCount,
      endedAt: new Date(event.occurred_at),
      queuedAt: new Date(Number(record.attributes.SentTimestamp)),
      now: new Date(),
      ...callbackRetry(),
      ...(retryAfter !== undefined && { retryAfterSeconds: retryAfter }),
    });
    if (delay === undefined) {
      log.error('callback failed until its retry window was used up; kept in the dead-letter queue', { receive_count: receiveCount, error: String(error) });
      await sendToDeadLetterQueue(queues.deadLetterQueueUrl, record.body, {
        ERROR_CODE: 'RetryWindowUsedUp',
        ERROR_MESSAGE: String(error),
        RECEIVE_COUNT: String(receiveCount),
      });
      return;
    }
    log.warn('callback failed; will be retried', { receive_count: receiveCount, retry_in_seconds: Math.round(delay), error: String(error) });
    await retryLater(queues.queueUrl, record.receiptHandle, delay);
    throw error;
  }
}

export const handler = eventHandler(sendQueued);
