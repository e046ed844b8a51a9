// Given/when/then for the blob's decisions, in the spirit of Emmett's DeciderSpecification:
// given the events already in a blob's log, when a decision runs on the state they fold to,
// then it appends exactly this event, or nothing. The fold and the decision are the product's
// own (shared/blob/state.ts, decisions.ts); nothing else takes part.
//
//   given(blobCreated(id), blobUploaded(id))
//     .when((state) => decideLabelingResult(state, 2, at(20), { labeled: labelingResult }))
//     .then(blobLabeled(id))
//     .andState({ invocation_status: 'COMPLETED' });
import { expect } from 'vitest';
import { BlobEvent as BlobEventSchema, type BlobEvent } from '../../shared/blob/events.ts';
import { evolve, foldBlob, type BlobState } from '../../shared/blob/state.ts';

export interface Outcome<E extends BlobEvent> {
  /** The decision appends exactly this event, which is also one the published schema describes. */
  then(expected: E): { andState(expected: Partial<BlobState>): void };
  /** The decision appends nothing: the command is a no-op on this state (a duplicate, a late one). */
  thenNothing(): void;
}

/** No log yet: the decision that starts one. */
export function given(): { when<E extends BlobEvent>(decide: () => E | null): Outcome<E> };
/** A blob's log, oldest first: the decision runs on its fold. */
export function given(first: BlobEvent, ...rest: BlobEvent[]): { when<E extends BlobEvent>(decide: (state: BlobState) => E | null): Outcome<E> };
export function given(...events: BlobEvent[]) {
  const state = foldBlob(events);
  if (events.length > 0 && !state) throw new Error('the given events fold to no blob: a log starts with BlobCreated');
  return {
    when<E extends BlobEvent>(decide: (state: BlobState) => E | null): Outcome<E> {
      const decided = decide(state!);
      return {
        then(expected) {
          // toStrictEqual: a field holding undefined is not an absent field (the log stores JSON).
          expect(decided).toStrictEqual(expected);
          expect(BlobEventSchema.safeParse(decided).error).toBeUndefined();
          const after = evolve(state, decided!);
          return { andState: (partial) => expect(after).toMatchObject(partial) };
        },
        thenNothing() {
          expect(decided).toBeNull();
        },
      };
    },
  };
}
