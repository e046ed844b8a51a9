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

export interface CommandOptions {
  /**
   * The state as the caller folded it moments ago (e.g. from a read it needed anyway). The first
   * attempt decides on it instead of reading the log again; if the log moved on meanwhile, the
   * append conflicts and the command re-reads as usual.
   */
  knownState?: BlobState;
  maxAttempts?: number;
}

export async function runCommand<E extends BlobEvent>(
  store: Pick<EventStore, 'read' | 'append'>,
  blobId: string,
  decide: (state: BlobState | undefined) => E | null,
  options: CommandOptions = {},
): Promise<CommandResult<E>> {
  const maxAttempts = options.maxAttempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    const state = attempt === 1 && options.knownState ? options.knownState : foldBlob(await store.read(blobId));
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
