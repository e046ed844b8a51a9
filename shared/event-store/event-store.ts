// The narrow interface every part of the product uses to reach the event log. Its adapters
// (DynamoDB, and in memory for tests) live beside it and read items through `eventOf`.
import type { BlobEvent } from '../blob/events.ts';
import { validate as blobEvent } from '../generated/inputs/blobEvent.js';
import { validated, type ParseError } from '../lambda/parse.ts';

export interface EventStore {
  /** All of a blob's events, oldest first; [] for an unknown blob. */
  read(blobId: string): Promise<BlobEvent[]>;
  /**
   * Several blobs' events up to a known version each, oldest first: for a consumer that has
   * an event in hand for each (a batch of them). A blob whose log does not reach its version
   * is left out, for the caller to read whole.
   */
  readThrough(versions: ReadonlyMap<string, number>): Promise<Map<string, BlobEvent[]>>;
  /**
   * Appends one event at its `version`. Exactly one writer wins a version: the others get
   * a VersionConflictError and must re-read.
   */
  append(event: BlobEvent): Promise<void>;
}

export class VersionConflictError extends Error {
  override readonly name = 'VersionConflictError';
  constructor(
    readonly blobId: string,
    readonly version: number,
  ) {
    super(`blob ${blobId} already has an event at version ${version}`);
  }
}

/** An item of the log that is not an event its schema describes: written by something else, or damaged. */
export class UnreadableEventError extends Error {
  override readonly name = 'UnreadableEventError';
  constructor(
    readonly blobId: unknown,
    readonly version: unknown,
    override readonly cause: ParseError,
  ) {
    super(`the log's item (${String(blobId)}, ${String(version)}) is not a blob event: ${cause.message}`);
  }
}

const StoredEvent = validated(blobEvent);

/** An item of the log, parsed as the event it must be (every adapter reads through this): the types are then true. */
export function eventOf(item: Record<string, unknown>): BlobEvent {
  const parsed = StoredEvent.safeParse(item);
  if (!parsed.success) throw new UnreadableEventError(item.blob_id, item.version, parsed.error);
  return parsed.data;
}
