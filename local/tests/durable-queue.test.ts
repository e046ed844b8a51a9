// The durable queue as a stream shard with a ParallelizationFactor: several batches at once,
// but one item's records strictly in the order they were written, a retry included.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DurableQueues } from '../durable-queue.ts';

interface StreamItem {
  item: string;
  seq: number;
  failOnce?: boolean;
}

let directory: string;
let queues: DurableQueues;

beforeEach(async () => {
  directory = mkdtempSync(join(tmpdir(), 'durable-queue-'));
  queues = await DurableQueues.open(directory);
});

afterEach(async () => {
  await queues.close();
  rmSync(directory, { recursive: true, force: true });
});

/** Consumes with the options given, logging the order in which calls start. */
function consumeLogged(options: { concurrency: number; orderingKey?: (record: StreamItem) => string }) {
  const log: string[] = [];
  const running = new Set<string>();
  let mostAtOnce = 0;
  let sameItemOverlaps = 0;
  queues.consume<StreamItem>(
    'stream',
    async ([entry]) => {
      const { item, seq, failOnce } = entry!.payload;
      if ([...running].some((name) => name.startsWith(`${item}:`))) sameItemOverlaps++;
      running.add(`${item}:${seq}`);
      mostAtOnce = Math.max(mostAtOnce, running.size);
      log.push(`${item}${seq}`);
      await sleep(5);
      running.delete(`${item}:${seq}`);
      if (failOnce && entry!.attempts === 0) throw new Error('transient');
    },
    { batchSize: 1, backoffMs: () => 30, ...options },
  );
  return { log, stats: () => ({ mostAtOnce, sameItemOverlaps }) };
}

const records: StreamItem[] = [
  { item: 'a', seq: 1, failOnce: true },
  { item: 'a', seq: 2 },
  { item: 'a', seq: 3 },
  { item: 'b', seq: 1 },
  { item: 'b', seq: 2 },
  { item: 'c', seq: 1 },
];

async function enqueueAll(): Promise<void> {
  await queues.enqueue('stream', records.map((record) => ({ id: `${record.item}${record.seq}`, payload: record })));
}

describe('a durable queue with an ordering key', () => {
  it('runs different items at once but each item in order, waiting out a retry', async () => {
    const { log, stats } = consumeLogged({ concurrency: 3, orderingKey: (record) => record.item });
    await enqueueAll();
    await queues.idle();
    expect(stats()).toEqual({ mostAtOnce: 3, sameItemOverlaps: 0 });
    for (const item of ['a', 'b', 'c']) {
      const calls = log.filter((call) => call.startsWith(item));
      expect(calls).toEqual([...calls].sort());
    }
    // a1 failed once and was retried before a2 ran; b and c did not wait for it.
    expect(log.filter((call) => call.startsWith('a'))).toEqual(['a1', 'a1', 'a2', 'a3']);
    expect(log.indexOf('b2')).toBeLessThan(log.lastIndexOf('a1'));
  });

  it('without one, concurrent calls take the same item out of order', async () => {
    const { log, stats } = consumeLogged({ concurrency: 3 });
    await enqueueAll();
    await queues.idle();
    expect(stats().sameItemOverlaps).toBeGreaterThan(0);
    expect(log.indexOf('a2')).toBeLessThan(log.lastIndexOf('a1'));
  });
});

describe('a delivery loop lets nothing escape', () => {
  it('a throwing dead-letter hook or ordering key is logged, and the queue goes on delivering', async () => {
    await queues.close();
    const logged: string[] = [];
    queues = await DurableQueues.open(directory, { error: (message) => logged.push(message) });
    const delivered: string[] = [];
    queues.consume<{ name: string }>(
      'hostile',
      async ([entry]) => {
        if (entry!.payload.name === 'poison') throw new Error('always fails');
        delivered.push(entry!.payload.name);
      },
      {
        maxAttempts: 1,
        onDeadLetter: () => {
          throw new Error('the hook itself fails');
        },
      },
    );
    let keyCalls = 0;
    queues.consume<{ name: string }>('keyed', async ([entry]) => void delivered.push(entry!.payload.name), {
      orderingKey: (payload) => {
        if (keyCalls++ === 0) throw new Error('a malformed record');
        return payload.name;
      },
    });
    await queues.enqueue('hostile', [{ id: 'p', payload: { name: 'poison' } }, { id: 'f', payload: { name: 'fine' } }]);
    await queues.enqueue('keyed', [{ id: 'k', payload: { name: 'keyed' } }]);
    await queues.idle();
    // Unhandled, either throw would have failed this run (vitest reports unhandled errors).
    expect(delivered.sort()).toEqual(['fine', 'keyed']);
    expect(logged).toEqual(expect.arrayContaining(['dead-letter hook failed', 'queue delivery loop failed; retrying in a second']));
  });
});
