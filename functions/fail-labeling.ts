// BlobUploaded messages the labeling queue gave up on (received too often: Rekognition kept
// throttling or failing, or the labeler kept crashing) -> BlobFailed LABELING_FAILED, so that
// no blob is left IN_PROGRESS. A blob already labeled meanwhile is left as it is.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { runCommand } from '../shared/blob/commands.ts';
import { decideLabelingResult } from '../shared/blob/decisions.ts';
import { eventStore } from '../shared/event-store/index.ts';
import { logger } from '../shared/logger.ts';
import { eventHandler } from '../shared/lambda/event-handler.ts';
import { validate as blobUploaded } from '../shared/generated/inputs/blobUploaded.js';
import { eventBridgeEvent, jsonString, validated } from '../shared/lambda/parse.ts';

/** A message of the labeling queue's dead letters: BlobUploaded, as the EventBridge rule queued it. */
const QueuedBlobUploaded = jsonString(eventBridgeEvent(validated(blobUploaded)));

async function failLabelings(event: SQSEvent) {
  return processPartialResponse(event, failLabeling, new BatchProcessor(EventType.SQS));
}

async function failLabeling(record: SQSRecord): Promise<void> {
  // A message that is not a BlobUploaded throws: it stays in the dead-letter queue, alarmed.
  const parsed = QueuedBlobUploaded.safeParse(record.body);
  if (!parsed.success) throw new Error(`message ${record.messageId} is not a queued BlobUploaded event`, { cause: parsed.error });
  const uploaded = parsed.data.detail;
  const { event: recorded } = await runCommand(eventStore(), uploaded.blob_id, (state) =>
    state
      ? decideLabelingResult(state, uploaded.version, new Date(), {
          failed: { code: 'LABELING_FAILED', message: 'Labeling kept failing (Rekognition throttling or errors) until its retries ran out.' },
        })
      : null,
  );
  logger.warn(recorded ? 'labeling given up; recorded as failed' : 'labeling given up, but the blob had moved on', {
    blob_id: uploaded.blob_id,
    receive_count: record.attributes.ApproximateReceiveCount,
  });
}

export const handler = eventHandler(failLabelings);
