// Read the log, fold, decide, append: the one way the product changes a blob. Optimistic
// concurrency: a lost race re-reads and decides again on the newer state.
import type { EventStore } from '../event-store/event-store.ts';
import { VersionConflictError } from '../event-store/event-store.ts';
import type { BlobEvent } from './events.ts';
import { evolve, foldBlob, type BlobState } from './state.ts';

export interface CommandResult<E extends BlobEvent> {
  /** The state after the command; undefined when the blob does not exist. */
  state: BlobState | undefined;
  /** The event appended, or null when the decision was to do nothing. */
  event: E | null;
}

export async function runCommand<E extends BlobEvent>(
  store: EventStore,
  blobId: string,
  decide: (state: BlobState | undefined) => E | null,
  maxAttempts = 5,
): Promise<CommandResult<E>> {
  for (let attempt = 1; ; attempt++) {
    const state = foldBlob(await store.read(blobId));
    const event = decide(state);
    if (!event) return { state, event: null };
    try {
      await store.append(event);
      return { state: evolve(state, event), event };
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= maxAttempts) throw error;
    }
  }
}
