// The event log in memory, behind the same interface as the DynamoDB adapter and held to the
// same contract (tests/support/event-store-contract.ts runs against both): a version is taken
// by exactly one append, reads are oldest first, and what is read is parsed from a stored copy,
// as an item read back from DynamoDB is. For the fast tests and tools; no function uses it.
import type { BlobEvent } from '../blob/events.ts';
import { eventOf, VersionConflictError, type EventStore } from './event-store.ts';

export class InMemoryEventStore implements EventStore {
  /** Each blob's log, by version; stored as JSON, as DynamoDB stores it (an undefined field is dropped). */
  private readonly logs = new Map<string, Map<number, string>>();

  /** A log that already holds these events (each version once). */
  constructor(events: readonly BlobEvent[] = []) {
    for (const event of events) this.put(event);
  }

  async read(blobId: string): Promise<BlobEvent[]> {
    const log = this.logs.get(blobId);
    if (!log) return [];
    return [...log.keys()].sort((a, b) => a - b).map((version) => parsed(log.get(version)!));
  }

  async readThrough(versions: ReadonlyMap<string, number>): Promise<Map<string, BlobEvent[]>> {
    const logs = new Map<string, BlobEvent[]>();
    for (const [blobId, last] of versions) {
      const log = this.logs.get(blobId);
      const stored = Array.from({ length: last }, (_, i) => log?.get(i + 1));
      if (stored.every((item) => item !== undefined)) logs.set(blobId, stored.map(parsed));
    }
    return logs;
  }

  async append(event: BlobEvent): Promise<void> {
    this.put(event);
  }

  /** Every blob with a log, for a test's fake read model or a tool's listing. */
  blobIds(): string[] {
    return [...this.logs.keys()];
  }

  private put(event: BlobEvent): void {
    const log = this.logs.get(event.blob_id) ?? new Map<number, string>();
    // The conditional put's condition: the key (blob_id, version) is free. Like DynamoDB's, it
    // does not ask that the version follow the last one; the decisions make sure of that.
    if (log.has(event.version)) throw new VersionConflictError(event.blob_id, event.version);
    log.set(event.version, JSON.stringify(event));
    this.logs.set(event.blob_id, log);
  }
}

function parsed(stored: string): BlobEvent {
  return eventOf(JSON.parse(stored) as Record<string, unknown>);
}
