// The blob as the API shows it (openapi.yaml's Blob, defined in shared/http/resources.ts),
// from the folded state.
import type { LabelingResult } from './events.ts';
import { labelingResultFields } from '../generated/blob-events.ts';
import type { BlobState } from './state.ts';
import type { BlobResource } from '../http/resources.ts';

export type { BlobResource } from '../http/resources.ts';

/** What labeling produced, as the state holds it: every result field, whatever they are. */
function labelingResultOf(state: BlobState): Partial<LabelingResult> {
  return Object.fromEntries(labelingResultFields.flatMap((field) => (state[field] === undefined ? [] : [[field, state[field]]])));
}

export function toBlobResource(
  state: BlobState,
  links: { self: string; upload?: { url: string; expiresAt: string } | undefined },
): BlobResource {
  const { labels, ...result } = labelingResultOf(state);
  return {
    blob_id: state.blob_id,
    invocation_status: state.invocation_status,
    requested_on: state.requested_on,
    ...(state.started_on && { started_on: state.started_on }),
    ...(state.completed_on && { completed_on: state.completed_on }),
    ...(state.expired_on && { expired_on: state.expired_on }),
    ...(links.upload && { upload_url: links.upload.url, upload_expires_on: links.upload.expiresAt }),
    ...(state.upload.content_type && { content_type: state.upload.content_type }),
    ...(state.callback_url && { callback_url: state.callback_url }),
    max_labels: state.labeling.max_labels,
    min_confidence: state.labeling.min_confidence,
    ...(labels && { labels: labels.map((label) => label.name), label_details: labels }),
    ...result,
    ...(state.failure && { failure: state.failure }),
    _links: { status: links.self },
  };
}
