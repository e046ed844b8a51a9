// The in-memory event store holds to the same contract as the DynamoDB one (which runs it
// against the local DynamoDB in tests/integration/event-store.test.ts).
import { describe, expect, it } from 'vitest';
import { InMemoryEventStore } from '../../shared/event-store/in-memory-event-store.ts';
import { UnreadableEventError, VersionConflictError } from '../../shared/event-store/event-store.ts';
import { blobCreated, blobUploaded, newBlobId } from '../support/blob-events.ts';
import { eventStoreContract } from '../support/event-store-contract.ts';

const store = new InMemoryEventStore();
eventStoreContract('InMemoryEventStore', () => store);

describe('InMemoryEventStore', () => {
  it('starts with the events it is given, each version once', async () => {
    const id = newBlobId();
    const seeded = new InMemoryEventStore([blobCreated(id), blobUploaded(id)]);
    expect((await seeded.read(id)).map((event) => event.type)).toEqual(['BlobCreated', 'BlobUploaded']);
    expect(seeded.blobIds()).toEqual([id]);
    expect(() => new InMemoryEventStore([blobCreated(id), blobCreated(id)])).toThrow(VersionConflictError);
  });

  it('parses what it reads, as the DynamoDB adapter does: an event its schema refuses is an UnreadableEventError', async () => {
    const id = newBlobId();
    // What only a writer past the types could store: a BlobUploaded without its key.
    const broken = { ...blobUploaded(id), data: { bucket: 'b', size_bytes: 1 } } as unknown as ReturnType<typeof blobUploaded>;
    const damaged = new InMemoryEventStore([blobCreated(id), broken]);
    await expect(damaged.read(id)).rejects.toBeInstanceOf(UnreadableEventError);
    await expect(damaged.readThrough(new Map([[id, 2]]))).rejects.toMatchObject({ name: 'UnreadableEventError', version: 2 });
  });
});
