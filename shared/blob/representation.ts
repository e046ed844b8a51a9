// The blob as the API shows it (openapi.yaml's Blob), from the folded state.
import type { components } from '../generated/openapi.ts';
import type { BlobState } from './state.ts';

export type BlobResource = components['schemas']['Blob'];

export function toBlobResource(
  state: BlobState,
  links: { self: string; upload?: { url: string; expiresAt: string } | undefined },
): BlobResource {
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
    ...(state.labels && {
      labels: state.labels.map((label) => label.name),
      label_details: state.labels,
    }),
    ...(state.image && { image: state.image }),
    ...(state.model && { model: state.model }),
    ...(state.failure && { failure: state.failure }),
    _links: { status: links.self },
  };
}
