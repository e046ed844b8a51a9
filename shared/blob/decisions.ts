// What each command decides, given the blob's state: a new event, or null for "nothing to
// do". Pure functions; a duplicate or late delivery folds to a state that decides null,
// which is what makes the consumers idempotent.
import type {
  BlobCreated,
  BlobCreatedData,
  BlobExpired,
  BlobFailed,
  BlobFailedData,
  BlobLabeled,
  BlobLabeledData,
  BlobUploaded,
  BlobUploadedData,
  CallbackRouting,
} from './events.ts';
import { currentSchemaVersions } from '../generated/blob-events.ts';
import type { BlobState } from './state.ts';

export function decideCreate(blobId: string, now: Date, data: BlobCreatedData): BlobCreated {
  return {
    blob_id: blobId,
    version: 1,
    type: 'BlobCreated',
    schema_version: currentSchemaVersions.BlobCreated,
    occurred_at: now.toISOString(),
    data,
  };
}

/** Only the first upload counts: a second PUT must not relabel or rewind the status. */
export function decideUpload(
  state: BlobState,
  now: Date,
  data: BlobUploadedData,
): BlobUploaded | null {
  if (state.invocation_status !== 'ACTION_REQUIRED') return null;
  return next(state, now, 'BlobUploaded', data);
}

/**
 * A labeling result belongs to one upload: it is recorded only while that upload is the
 * last thing that happened to the blob.
 */
export function decideLabelingResult(
  state: BlobState,
  uploadVersion: number,
  now: Date,
  result: { labeled: BlobLabeledData } | { failed: BlobFailedData },
): BlobLabeled | BlobFailed | null {
  if (state.invocation_status !== 'IN_PROGRESS' || state.version !== uploadVersion) return null;
  return 'labeled' in result
    ? next(state, now, 'BlobLabeled', { ...result.labeled, ...callbackRouting(state) })
    : next(state, now, 'BlobFailed', { ...result.failed, ...callbackRouting(state) });
}

/** A blob whose upload never came expires once its URL has, plus a grace period for uploads in flight. */
export function decideExpire(state: BlobState, now: Date, graceSeconds: number): BlobExpired | null {
  if (state.invocation_status !== 'ACTION_REQUIRED') return null;
  if (now.getTime() < Date.parse(state.upload.expires_at) + graceSeconds * 1000) return null;
  return next(state, now, 'BlobExpired', { upload_expired_at: state.upload.expires_at, ...callbackRouting(state) });
}

/**
 * The backstop for a labeling that never reported back (its deliveries exhausted, a lost
 * event): after the timeout the blob fails rather than staying IN_PROGRESS for good.
 */
export function decideLabelingTimeout(state: BlobState, now: Date, timeoutSeconds: number): BlobFailed | null {
  if (state.invocation_status !== 'IN_PROGRESS' || !state.started_on) return null;
  if (now.getTime() < Date.parse(state.started_on) + timeoutSeconds * 1000) return null;
  return next(state, now, 'BlobFailed', {
    code: 'LABELING_FAILED',
    message: `Labeling did not finish within ${timeoutSeconds} s of the upload.`,
    ...callbackRouting(state),
  });
}

/** For a final event: the field is left out, not undefined, when the blob has no callback. */
function callbackRouting(state: BlobState): CallbackRouting {
  return state.callback_url === undefined ? {} : { callback_url: state.callback_url };
}

function next<Type extends 'BlobUploaded' | 'BlobLabeled' | 'BlobFailed' | 'BlobExpired', Data>(
  state: BlobState,
  now: Date,
  type: Type,
  data: Data,
) {
  return {
    blob_id: state.blob_id,
    version: state.version + 1,
    type,
    schema_version: currentSchemaVersions[type],
    occurred_at: now.toISOString(),
    data,
  };
}
