// BlobUploaded -> inspect the bytes -> DetectLabels -> BlobLabeled or BlobFailed, then the
// image is deleted unless retention is on. Delivery is at least once: a duplicate finds the
// blob already past its upload and does nothing. The events come from the labeling queue;
// one Rekognition could not take now goes back to it, to be tried again later.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { runCommand } from '../shared/blob/commands.ts';
import { decideLabelingResult } from '../shared/blob/decisions.ts';
import type { BlobUploaded, BlobUploadedData, ImageInfo, LabelingSettings } from '../shared/blob/events.ts';
import { foldBlob } from '../shared/blob/state.ts';
import { config, labelingQueueUrl, rekognitionTransactionsPerSecond } from '../shared/config.ts';
import { eventStore } from '../shared/event-store/index.ts';
import { detectLabels, TransientLabelingError, type LabelingOutcome } from '../shared/labeling/detect-labels.ts';
import { failureOf, inspectImage, rekognitionLimits } from '../shared/labeling/inspect-image.ts';
import { nextAttemptDelay, type LabelingAttempt } from '../shared/labeling/retry-policy.ts';
import { logger } from '../shared/logger.ts';
import { queueBacklog } from '../shared/queue/backlog.ts';
import { retryLater } from '../shared/queue/retry-later.ts';
import { deleteUpload, isStillRecorded } from '../shared/storage/uploads.ts';
import { eventHandler } from '../shared/lambda/event-handler.ts';
import { validate as blobUploaded } from '../shared/generated/inputs/blobUploaded.js';
import { eventBridgeEvent, jsonString, validated } from '../shared/lambda/parse.ts';

/** A message of the labeling queue: BlobUploaded, as the EventBridge rule queued it. */
const QueuedBlobUploaded = jsonString(eventBridgeEvent(validated(blobUploaded)));

async function labelBlob(uploaded: BlobUploaded, attempt: { retryLater: boolean }): Promise<void> {
  logger.appendKeys({ blob_id: uploaded.blob_id });
  // Both are reads: doing them together saves a round trip on every image.
  const [events, inspection] = await Promise.all([
    eventStore().read(uploaded.blob_id),
    inspectImage(uploaded.data, { ...rekognitionLimits, maxBytes: config().maxImageBytes }),
  ]);
  const before = foldBlob(events);
  if (before?.invocation_status !== 'IN_PROGRESS' || before.version !== uploaded.version) {
    logger.info('already labeled; duplicate delivery ignored', { invocation_status: before?.invocation_status });
    return;
  }

  const outcome: LabelingOutcome =
    'failed' in inspection ? inspection : await label(uploaded.data, inspection, before.labeling, attempt);
  const { event: recorded } = await runCommand(
    eventStore(),
    uploaded.blob_id,
    (state) => (state ? decideLabelingResult(state, uploaded.version, new Date(), outcome) : null),
    { knownState: before },
  );
  if (!recorded) {
    logger.info('another delivery recorded the result first');
  } else if (recorded.type === 'BlobFailed') {
    // Not the whole data: it also holds the callback_url, which is the client's and stays out of logs.
    const { code, message } = recorded.data;
    logger.warn('labeling failed', { failure: { code, message } });
  } else {
    logger.info('labeled', { labels: recorded.data.labels.length });
  }

  if (!config().retainUploads) await deleteUpload(uploaded.data);
}

/**
 * Labels exactly the object BlobUploaded recorded. Two PUTs racing to one upload URL leave the
 * bucket holding the later one, while the first Object Created is what was recorded. Bucket
 * versioning would pin the object exactly (Rekognition's S3Object takes a Version), but it
 * needs a new field in BlobUploaded and the local S3 (s3rver) has no versions. So an image up
 * to 5 MB (nearly all) is read whole with If-Match on the recorded ETag and sent as
 * Image.Bytes; a larger one goes as an S3Object and the bucket is asked afterwards, with
 * If-Match again, whether it still holds the recorded object. A mismatch fails the blob with a
 * message rather than giving it another image's labels.
 */
async function label(
  upload: BlobUploadedData,
  inspection: { image: ImageInfo; bytes?: Uint8Array },
  settings: LabelingSettings,
  attempt: { retryLater: boolean },
) {
  const outcome = await detectLabels(upload, inspection.image, settings, { ...attempt, ...(inspection.bytes && { bytes: inspection.bytes }) });
  if (inspection.bytes || 'failed' in outcome) return outcome;
  const still = await isStillRecorded(upload);
  return still === true ? outcome : { failed: failureOf(still.gone) };
}

async function labelQueued(event: SQSEvent) {
  // Per invocation: the processor keeps the batch's state.
  return processPartialResponse(event, labelMessage, new BatchProcessor(EventType.SQS));
}

/** One queued BlobUploaded; a throw reports the message as failed, and it comes back later. */
async function labelMessage(record: SQSRecord): Promise<void> {
  // A message that is not a BlobUploaded throws: reported as failed, it ends in the dead-letter queue.
  const uploaded = QueuedBlobUploaded.parse(record.body).detail;
  const attempt = {
    receiveCount: Number(record.attributes.ApproximateReceiveCount),
    uploadedAt: new Date(uploaded.occurred_at),
    now: new Date(),
    labelingTimeoutSeconds: config().labelingTimeoutSeconds,
  };
  // Whether another attempt can still start in time: if not, this one records whatever happens.
  const plainDelay = nextAttemptDelay(attempt);
  try {
    await labelBlob(uploaded, { retryLater: plainDelay !== undefined });
  } catch (error) {
    if (error instanceof TransientLabelingError && plainDelay !== undefined) {
      const paced = error.throttled ? await pacedDelay(attempt) : undefined;
      const delay = paced ?? plainDelay;
      logger.info('Rekognition cannot take it now; trying again later', { receive_count: attempt.receiveCount, retry_in_seconds: Math.round(delay), reason: error.message });
      await retryLater(labelingQueueUrl(), record.receiptHandle, delay);
    }
    throw error;
  }
}

/** Throttled: a delay within the time the queue's backlog takes to drain at the quota, if it fits before the timeout. */
async function pacedDelay(attempt: LabelingAttempt): Promise<number | undefined> {
  try {
    const backlog = { messages: await queueBacklog(labelingQueueUrl()), transactionsPerSecond: rekognitionTransactionsPerSecond() };
    return nextAttemptDelay({ ...attempt, backlog });
  } catch (error) {
    logger.warn('could not read the labeling queue\'s backlog; plain backoff', { error: String(error) });
    return undefined;
  }
}

export const handler = eventHandler(labelQueued);
