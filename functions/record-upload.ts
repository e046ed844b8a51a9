// S3 "Object Created" (EventBridge) -> BlobUploaded. Only the first upload of a blob counts.
import type { S3ObjectCreatedNotificationEvent } from 'aws-lambda';
import { runCommand } from '../shared/blob/commands.ts';
import { decideUpload } from '../shared/blob/decisions.ts';
import { eventStore } from '../shared/event-store/index.ts';
import { logger } from '../shared/logger.ts';
import { config } from '../shared/config.ts';
import { blobIdOfKey, deleteUpload } from '../shared/storage/uploads.ts';
import { eventHandler } from '../shared/lambda/event-handler.ts';

async function recordUpload(event: S3ObjectCreatedNotificationEvent): Promise<void> {
  const { bucket, object } = event.detail;
  const blobId = blobIdOfKey(object.key);
  if (!blobId) {
    logger.warn('ignoring an object that is not an upload', { key: object.key });
    return;
  }
  logger.appendKeys({ blob_id: blobId });
  // EventBridge times have whole seconds; the processing time keeps started_on after requested_on.
  const now = new Date();
  const { state, event: uploaded } = await runCommand(eventStore(), blobId, (current) =>
    current
      ? decideUpload(current, now, {
          bucket: bucket.name,
          key: object.key,
          size_bytes: object.size,
          ...(object.etag && { etag: object.etag }),
        })
      : null,
  );
  if (!state) logger.warn('upload for an unknown blob', { key: object.key });
  else if (uploaded) logger.info('upload recorded', { size_bytes: object.size });
  else {
    logger.info('upload ignored', { invocation_status: state.invocation_status });
    // A late second upload of a finished blob would otherwise stay in the bucket for good.
    if (state.invocation_status !== 'IN_PROGRESS' && !config().retainUploads) {
      await deleteUpload({ bucket: bucket.name, key: object.key });
    }
  }
}

export const handler = eventHandler(recordUpload);
