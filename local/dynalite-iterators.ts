// dynalite 4 reads LevelDB (level 10, abstract-level 3) through Node streams, and a stream's
// destroy() ends its iterator with `iterator.return()`: the JavaScript iterator protocol's
// "stop early". abstract-level 3's iterators have close() but no return(), so every Query and
// Scan left a LevelDB iterator open for the life of the process: a native iterator and the
// table state it pins, ~12 KB per request in malloc's heaps, never given back. With clients
// polling GET /blobs/{id} (a Query each), the local stack grew ~1 MB per labeled image
// (issue 13). This gives the iterators the protocol's return(), which closes them, as a
// `for await` loop over the same iterator would. dynalite 4.0.0 is the latest release.
import { createRequire } from 'node:module';

interface Closable {
  close(): Promise<void>;
}

/** abstract-level as dynalite loads it: dynalite -> level -> classic-level -> abstract-level. */
function abstractLevelOfDynalite(): { AbstractIterator: { prototype: object } } {
  let resolveFrom = import.meta.url;
  for (const name of ['dynalite', 'level', 'classic-level']) resolveFrom = createRequire(resolveFrom).resolve(name);
  return createRequire(resolveFrom)('abstract-level') as { AbstractIterator: { prototype: object } };
}

/** Idempotent; the iterators' common base class is patched, so key, value and entry iterators all get it. */
export function closeDynaliteIteratorsOnReturn(): void {
  const commonIterator = Object.getPrototypeOf(abstractLevelOfDynalite().AbstractIterator.prototype) as Record<string, unknown>;
  if (typeof commonIterator.return === 'function') return;
  Object.defineProperty(commonIterator, 'return', {
    configurable: true,
    writable: true,
    value: async function (this: Closable): Promise<IteratorReturnResult<undefined>> {
      await this.close();
      return { done: true, value: undefined };
    },
  });
}
