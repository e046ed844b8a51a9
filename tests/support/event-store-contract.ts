// What the product relies on from an event store, run against every adapter: the in-memory one
// in the unit tier (tests/unit/in-memory-event-store.test.ts), the DynamoDB one against the
// local DynamoDB (tests/integration/event-store.test.ts). A behaviour added to one adapter
// belongs here, so that the other cannot drift from it.
import { describe, expect, it } from 'vitest';
import { runCommand } from '../../shared/blob/commands.ts';
import { decideUpload } from '../../shared/blob/decisions.ts';
import { foldBlob, type BlobState } from '../../shared/blob/state.ts';
import { VersionConflictError, type EventStore } from '../../shared/event-store/event-store.ts';
import { blobCreated, blobLabeled, blobUploaded, newBlobId } from './blob-events.ts';

export function eventStoreContract(adapter: string, store: () => EventStore): void {
  describe(`${adapter}: the event store contract`, () => {
    it('reads back what was appended, equal to it, oldest first', async () => {
      const id = newBlobId();
      const events = [blobCreated(id, { callbackUrl: 'https://example.com/hook' }), blobUploaded(id), blobLabeled(id)];
      for (const event of events) await store().append(event);
      expect(await store().read(id)).toEqual(events);
    });

    it('reads oldest first whatever order the versions were written in', async () => {
      const id = newBlobId();
      const [created, uploaded, labeled] = [blobCreated(id), blobUploaded(id), blobLabeled(id)];
      await store().append(labeled);
      await store().append(created);
      await store().append(uploaded);
      expect((await store().read(id)).map((event) => event.version)).toEqual([1, 2, 3]);
    });

    it("keeps blobs apart: a read has only the blob's own events", async () => {
      const [one, two] = [newBlobId(), newBlobId()];
      await store().append(blobCreated(one));
      await store().append(blobCreated(two));
      await store().append(blobUploaded(two));
      expect((await store().read(one)).map((event) => event.blob_id)).toEqual([one]);
      expect(await store().read(two)).toHaveLength(2);
    });

    it('reads an unknown blob as an empty log', async () => {
      expect(await store().read(newBlobId())).toEqual([]);
    });

    it('gives a version to exactly one of eight racing appends; the others get a VersionConflictError', async () => {
      const id = newBlobId();
      await store().append(blobCreated(id));
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, writer) => store().append(blobUploaded(id, { sizeBytes: writer }))),
      );
      const lost = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      expect(lost).toHaveLength(7);
      for (const loss of lost) expect(loss.reason).toMatchObject({ name: 'VersionConflictError', blobId: id, version: 2 });
      for (const loss of lost) expect(loss.reason).toBeInstanceOf(VersionConflictError);
      const log = await store().read(id);
      expect(log).toHaveLength(2);
      // The one kept is the winner's, whole: not a mix of two.
      const winner = results.findIndex((result) => result.status === 'fulfilled');
      expect(log[1]).toEqual(blobUploaded(id, { sizeBytes: winner }));
    });

    it('refuses the very same event appended twice: an append is not idempotent for its caller', async () => {
      const id = newBlobId();
      const created = blobCreated(id);
      await store().append(created);
      await expect(store().append(created)).rejects.toBeInstanceOf(VersionConflictError);
      expect(await store().read(id)).toEqual([created]);
    });

    it('hands out what it stores, never the stored thing: changing a read or an appended event changes nothing', async () => {
      const id = newBlobId();
      const created = blobCreated(id);
      await store().append(created);
      created.data.labeling.max_labels = 99;
      const [read] = await store().read(id);
      expect(read!.data).toMatchObject({ labeling: { max_labels: 10 } });
      (read as typeof created).data.owner = 'mallory';
      expect((await store().read(id))[0]).toMatchObject({ data: { owner: 'alice' } });
    });

    it('reads many blobs through known versions at once, leaving out a log that does not reach its version', async () => {
      // 60 blobs of two events: 120 keys, more than one BatchGetItem takes.
      const ids = Array.from({ length: 60 }, () => newBlobId());
      for (const id of ids) {
        await store().append(blobCreated(id));
        await store().append(blobUploaded(id));
      }
      const short = newBlobId();
      await store().append(blobCreated(short));
      const logs = await store().readThrough(new Map([...ids.map((id) => [id, 2] as const), [short, 2]]));
      expect(logs.size).toBe(60);
      for (const id of ids) expect(logs.get(id)).toEqual(await store().read(id));
      // Its version 2 does not exist (yet): the caller falls back to reading it whole.
      expect(logs.has(short)).toBe(false);
      // Through version 1 only: the log as it was then, though it has moved on since.
      expect((await store().readThrough(new Map([[ids[0]!, 1]]))).get(ids[0]!)).toEqual([blobCreated(ids[0]!)]);
      expect((await store().readThrough(new Map())).size).toBe(0);
    });

    it('lets the command runner re-decide on the newer state after losing a race', async () => {
      const id = newBlobId();
      await store().append(blobCreated(id));
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, (_, writer) =>
          runCommand(store(), id, (state) => (state ? decideUpload(state, new Date(), { bucket: 'b', key: 'k', size_bytes: writer }) : null)),
        ),
      );
      expect(outcomes.filter((outcome) => outcome.event !== null)).toHaveLength(1);
      expect(outcomes.every((outcome) => outcome.state?.invocation_status === 'IN_PROGRESS')).toBe(true);
      expect((await store().read(id)).map((event) => event.type)).toEqual(['BlobCreated', 'BlobUploaded']);
    });

    it('lets a command decide on a known state without reading, and re-read when that state was stale', async () => {
      const id = newBlobId();
      const created = blobCreated(id);
      await store().append(created);
      const known = foldBlob([created])!;
      const decide = (size: number) => (state: BlobState | undefined) =>
        state ? decideUpload(state, new Date(), { bucket: 'b', key: 'k', size_bytes: size }) : null;
      let reads = 0;
      const counted = { read: (blobId: string) => (reads++, store().read(blobId)), append: (event: Parameters<EventStore['append']>[0]) => store().append(event) };
      const recorded = await runCommand(counted, id, decide(1), { knownState: known });
      expect(recorded.event?.version).toBe(2);
      expect(reads).toBe(0);
      // The same known state is now stale: its append conflicts, and the re-read sees the upload.
      const late = await runCommand(counted, id, decide(2), { knownState: known });
      expect(reads).toBe(1);
      expect(late.event).toBeNull();
      expect(late.state?.version).toBe(2);
    });
  });
}
