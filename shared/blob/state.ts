// The blob's state is a pure fold of its events: no I/O, no clock, so it is the same in
// every handler, in the projector and in tests.
import { ANONYMOUS_OWNER } from './owner.ts';
import type { BlobCreatedData, BlobEvent, BlobFailedData, LabelingResult, LabelingSettings } from './events.ts';
import type { InvocationStatus } from '../http/resources.ts';

/** The state of a blob; once it is labeled, what labeling produced too (BlobLabeled's data). */
export interface BlobState extends Partial<LabelingResult> {
  blob_id: string;
  /** The version of the last event folded in; the next append expects version + 1. */
  version: number;
  /** Who created it; only this owner may see it (the API answers others as if it did not exist). */
  owner: string;
  invocation_status: InvocationStatus;
  requested_on: string;
  upload: BlobCreatedData['upload'];
  labeling: LabelingSettings;
  callback_url?: string;
  expired_on?: string;
  started_on?: string;
  completed_on?: string;
  failure?: BlobFailedData;
}

export function evolve(state: BlobState | undefined, event: BlobEvent): BlobState | undefined {
  if (event.type === 'BlobCreated') {
    return {
      blob_id: event.blob_id,
      version: event.version,
      owner: event.data.owner ?? ANONYMOUS_OWNER,
      invocation_status: 'ACTION_REQUIRED',
      requested_on: event.occurred_at,
      upload: event.data.upload,
      labeling: event.data.labeling,
      ...(event.data.callback_url === undefined ? {} : { callback_url: event.data.callback_url }),
    };
  }
  // A log that does not start with BlobCreated has no blob to speak of.
  if (!state) return undefined;
  const next = { ...state, version: event.version };
  switch (event.type) {
    case 'BlobUploaded':
      return { ...next, invocation_status: 'IN_PROGRESS', started_on: event.occurred_at };
    case 'BlobLabeled': {
      // The result as it is (a new result field needs no change here); the routing stays out.
      const { callback_url: _routing, ...result } = event.data;
      return { ...next, invocation_status: 'COMPLETED', completed_on: event.occurred_at, ...result };
    }
    case 'BlobFailed':
      return {
        ...next,
        invocation_status: 'FAILED',
        completed_on: event.occurred_at,
        // The failure alone: API users see it as it is, and the event's data also carries routing.
        failure: { code: event.data.code, message: event.data.message },
      };
    case 'BlobExpired':
      return { ...next, invocation_status: 'EXPIRED', expired_on: event.occurred_at };
  }
}

export function foldBlob(events: readonly BlobEvent[]): BlobState | undefined {
  return events.reduce<BlobState | undefined>(evolve, undefined);
}
