// The batch helper against a document client that answers as DynamoDB may: part of a call
// handed back unprocessed. That answer is a throttled table's, which no local DynamoDB gives on
// demand, so a fake client gives it here (the fault injected); everything else is the helper's.
import { BatchGetCommand, BatchWriteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import {
  BATCH_GET_LIMIT,
  BATCH_WRITE_LIMIT,
  batchGetAll,
  batchWriteAll,
  UnprocessedBatchError,
  type Key,
  type WriteRequest,
} from '../../shared/aws/dynamodb-batch.ts';
import { BlobProjection } from '../../shared/read-model/blob-projection.ts';

const table = 'rows';

/** What the fake table holds, and what it leaves unprocessed, call by call. */
interface FakeTable {
  items: Map<string, Record<string, unknown>>;
  /** Per call, how many of its requests or keys (the last ones) to hand back; 0 once it runs out. */
  leaveUnprocessed: number[];
  calls: { operation: 'get' | 'write'; size: number; consistentRead?: boolean; table: string }[];
}

function fakeTable(leaveUnprocessed: number[] = []): FakeTable {
  return { items: new Map(), leaveUnprocessed: [...leaveUnprocessed], calls: [] };
}

const id = (key: Key) => String(key.pk);

function clientOf(fake: FakeTable): DynamoDBDocumentClient {
  const send = async (command: unknown) => {
    if (command instanceof BatchWriteCommand) {
      const [[name, requests]] = Object.entries(command.input.RequestItems!) as [[string, WriteRequest[]]];
      // DynamoDB's own limits: a call over them is a ValidationException, not a partial answer.
      if (requests.length > BATCH_WRITE_LIMIT) throw new Error('ValidationException: too many items');
      fake.calls.push({ operation: 'write', size: requests.length, table: name });
      const left = Math.min(fake.leaveUnprocessed.shift() ?? 0, requests.length);
      const done = requests.slice(0, requests.length - left);
      for (const request of done) {
        if (request.PutRequest) fake.items.set(id(request.PutRequest.Item!), request.PutRequest.Item!);
        if (request.DeleteRequest) fake.items.delete(id(request.DeleteRequest.Key!));
      }
      return { UnprocessedItems: left > 0 ? { [name]: requests.slice(requests.length - left) } : {} };
    }
    if (command instanceof BatchGetCommand) {
      const [name, request] = Object.entries(command.input.RequestItems!)[0]!;
      const keys: Key[] = request.Keys!;
      if (keys.length > BATCH_GET_LIMIT) throw new Error('ValidationException: too many keys');
      if (new Set(keys.map(id)).size !== keys.length) throw new Error('ValidationException: Provided list of item keys contains duplicates');
      fake.calls.push({ operation: 'get', size: keys.length, table: name, ...(request.ConsistentRead && { consistentRead: true }) });
      const left = Math.min(fake.leaveUnprocessed.shift() ?? 0, keys.length);
      const served = keys.slice(0, keys.length - left).flatMap((key) => fake.items.get(id(key)) ?? []);
      return { Responses: { [name]: served }, UnprocessedKeys: left > 0 ? { [name]: { Keys: keys.slice(keys.length - left) } } : {} };
    }
    throw new Error(`unexpected command ${String(command)}`);
  };
  // The helper only ever calls send(); the real client's other members are not needed.
  return { send } as unknown as DynamoDBDocumentClient;
}

/** Records the waits instead of waiting; the jitter is fixed so that the delays are known. */
function noWait(random = () => 0.5) {
  const delays: number[] = [];
  return { delays, options: { sleep: async (ms: number) => void delays.push(ms), random } };
}

const puts = (count: number, from = 0): WriteRequest[] =>
  Array.from({ length: count }, (_, i) => ({ PutRequest: { Item: { pk: `row-${from + i}`, value: from + i } } }));

describe('batchWriteAll', () => {
  it('writes every request, 25 a call', async () => {
    const fake = fakeTable();
    await batchWriteAll(clientOf(fake), table, puts(60));
    expect(fake.calls.map((call) => call.size)).toEqual([25, 25, 10]);
    expect(fake.calls.every((call) => call.table === table)).toBe(true);
    expect(fake.items.size).toBe(60);
  });

  it('makes no call for no requests', async () => {
    const fake = fakeTable();
    await batchWriteAll(clientOf(fake), table, []);
    expect(fake.calls).toEqual([]);
  });

  it('sends again exactly what came back unprocessed, after a growing, jittered wait', async () => {
    const fake = fakeTable([20, 12, 3]);
    const { delays, options } = noWait();
    await batchWriteAll(clientOf(fake), table, puts(25), options);
    expect(fake.calls.map((call) => call.size)).toEqual([25, 20, 12, 3]);
    expect(fake.items.size).toBe(25);
    // Full jitter at 0.5: half of 25 ms x 2, x 4, x 8.
    expect(delays).toEqual([25, 50, 100]);
  });

  it('deletes too, and mixes puts and deletes in one call', async () => {
    const fake = fakeTable();
    await batchWriteAll(clientOf(fake), table, puts(3));
    await batchWriteAll(clientOf(fake), table, [{ DeleteRequest: { Key: { pk: 'row-0' } } }, ...puts(1, 10)]);
    expect([...fake.items.keys()].sort()).toEqual(['row-1', 'row-10', 'row-2']);
  });

  it('caps each wait, and the jitter spreads it between 0 and the cap', async () => {
    const fake = fakeTable([1, 1, 1, 1, 1, 1, 1]);
    const { delays, options } = noWait(() => 0.999);
    await batchWriteAll(clientOf(fake), table, puts(1), { ...options, maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 1_000 });
    expect(delays.map(Math.round)).toEqual([200, 400, 799, 999, 999, 999, 999]);
    const none = noWait(() => 0);
    await batchWriteAll(clientOf(fakeTable([1, 1])), table, puts(1), none.options);
    expect(none.delays).toEqual([0, 0]);
  });

  it('gives up after the last attempt with a typed error holding what is left, and calls no more', async () => {
    const fake = fakeTable(Array.from({ length: 20 }, () => 2));
    const { delays, options } = noWait();
    const error = await batchWriteAll(clientOf(fake), table, puts(5), { ...options, maxAttempts: 4 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnprocessedBatchError);
    const failure = error as UnprocessedBatchError;
    expect(failure).toMatchObject({ operation: 'BatchWriteItem', table, attempts: 4 });
    expect(failure.unprocessed).toEqual(puts(5).slice(3));
    expect(failure.message).toBe('BatchWriteItem on rows left 2 requests unprocessed after 4 attempts');
    expect(fake.calls).toHaveLength(4);
    expect(delays).toHaveLength(3); // no wait after the last attempt
    expect(fake.items.size).toBe(3);
  });

  it('gives up after 8 attempts by default', async () => {
    const fake = fakeTable(Array.from({ length: 20 }, () => 1));
    const { options } = noWait();
    await expect(batchWriteAll(clientOf(fake), table, puts(2), options)).rejects.toMatchObject({ attempts: 8 });
    expect(fake.calls).toHaveLength(8);
  });

  it('gives each chunk its own attempts', async () => {
    // The first chunk needs 3 calls, the second 3: with 3 attempts each, both are written.
    const fake = fakeTable([5, 5, 0, 5, 5, 0]);
    const { options } = noWait();
    await batchWriteAll(clientOf(fake), table, puts(30), { ...options, maxAttempts: 3 });
    expect(fake.calls.map((call) => call.size)).toEqual([25, 5, 5, 5, 5, 5]);
    expect(fake.items.size).toBe(30);
  });

  it('lets an error of the call itself through, untouched', async () => {
    const refusing = { send: async () => Promise.reject(new Error('ValidationException: bad key')) } as unknown as DynamoDBDocumentClient;
    await expect(batchWriteAll(refusing, table, puts(1))).rejects.toThrow('ValidationException: bad key');
  });
});

describe('batchGetAll', () => {
  async function stocked(count: number, leaveUnprocessed: number[] = []) {
    const fake = fakeTable();
    await batchWriteAll(clientOf(fake), table, puts(count));
    fake.calls = [];
    fake.leaveUnprocessed = leaveUnprocessed;
    return fake;
  }
  const keys = (count: number, from = 0): Key[] => Array.from({ length: count }, (_, i) => ({ pk: `row-${from + i}` }));

  it('reads every key, 100 a call, with the read consistency asked for', async () => {
    const fake = await stocked(250);
    const items = await batchGetAll(clientOf(fake), table, keys(250), { consistentRead: true });
    expect(fake.calls.map((call) => call.size)).toEqual([100, 100, 50]);
    expect(fake.calls.every((call) => call.consistentRead === true)).toBe(true);
    expect(items.map((item) => item.value).sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 250 }, (_, i) => i));
    await batchGetAll(clientOf(fake), table, keys(1));
    expect(fake.calls.at(-1)!.consistentRead).toBeUndefined();
  });

  it('leaves out keys without an item', async () => {
    const fake = await stocked(3);
    const items = await batchGetAll(clientOf(fake), table, [...keys(2), { pk: 'missing' }]);
    expect(items.map((item) => item.pk).sort()).toEqual(['row-0', 'row-1']);
  });

  it('keeps what each call returned and asks again only for the unprocessed keys', async () => {
    const fake = await stocked(40, [30, 10]);
    const { delays, options } = noWait();
    const items = await batchGetAll(clientOf(fake), table, keys(40), options);
    expect(fake.calls.map((call) => call.size)).toEqual([40, 30, 10]);
    expect(items).toHaveLength(40);
    expect(new Set(items.map((item) => item.pk)).size).toBe(40);
    expect(delays).toEqual([25, 50]);
  });

  it('asks for a key given twice once (DynamoDB refuses a call that repeats one)', async () => {
    const fake = await stocked(2);
    const items = await batchGetAll(clientOf(fake), table, [{ pk: 'row-0' }, { pk: 'row-1' }, { pk: 'row-0' }]);
    expect(fake.calls.map((call) => call.size)).toEqual([2]);
    expect(items).toHaveLength(2);
    // The same key with its attributes in another order is the same key.
    const composite = await batchGetAll(clientOf(fake), table, [{ pk: 'row-0', sk: 'a' }, { sk: 'a', pk: 'row-0' }]);
    expect(composite).toHaveLength(1);
  });

  it('gives up with a typed error naming the keys it could not read', async () => {
    const fake = await stocked(10, Array.from({ length: 10 }, () => 4));
    const { options } = noWait();
    const error = await batchGetAll(clientOf(fake), table, keys(10), { ...options, maxAttempts: 3 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnprocessedBatchError);
    expect(error).toMatchObject({ operation: 'BatchGetItem', table, attempts: 3, unprocessed: keys(4, 6) });
    expect((error as Error).message).toBe('BatchGetItem on rows left 4 keys unprocessed after 3 attempts');
  });

  it('makes no call for no keys', async () => {
    const fake = await stocked(1);
    expect(await batchGetAll(clientOf(fake), table, [])).toEqual([]);
    expect(fake.calls).toEqual([]);
  });
});

describe('the batch reads and writes of the product', () => {
  it("give up on a table that stays throttled: a label page's rows (once a loop with no backoff and no limit)", async () => {
    // Label rows name the blobs; their rows are then read in one BatchGetItem, which never gets done here.
    let batchGets = 0;
    const throttled = {
      send: async (command: unknown) => {
        if (command instanceof QueryCommand) return { Items: [{ pk: 'label', sk: 'b1', blob_id: 'b1' }] };
        if (command instanceof BatchGetCommand) {
          batchGets++;
          const [name, request] = Object.entries(command.input.RequestItems!)[0]!;
          return { Responses: { [name]: [] }, UnprocessedKeys: { [name]: request } };
        }
        throw new Error('unexpected command');
      },
    } as unknown as DynamoDBDocumentClient;
    vi.spyOn(Math, 'random').mockReturnValue(0); // no waiting between attempts
    try {
      const page = new BlobProjection(throttled, 'read-model').page({ owner: 'alice', label: 'Cat', limit: 10 });
      await expect(page).rejects.toMatchObject({ name: 'UnprocessedBatchError', operation: 'BatchGetItem', attempts: 8 });
      expect(batchGets).toBe(8);
    } finally {
      vi.restoreAllMocks();
    }
  });
});
