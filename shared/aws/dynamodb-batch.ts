// BatchGetItem and BatchWriteItem, done whole. Each call takes a bounded number of items (the
// API's limits), and DynamoDB may hand part of a call back unprocessed (throttling, a response
// over 16 MB) without failing it. AWS asks callers to send those again after an exponential
// backoff with jitter; a bounded number of attempts, so that a table that stays throttled fails
// the invocation (and its delivery is retried) instead of holding it until Lambda's timeout.
// Every batch read and write of the product goes through here.
import {
  BatchGetCommand,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';

export type WriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];
export type Key = Record<string, unknown>;

/** BatchWriteItem takes at most 25 put or delete requests a call. */
export const BATCH_WRITE_LIMIT = 25;
/** BatchGetItem takes at most 100 keys a call. */
export const BATCH_GET_LIMIT = 100;

export interface BatchRetryOptions {
  /** Calls for one chunk, the first included, before giving up (default 8). */
  maxAttempts?: number;
  /** The backoff before the second call of a chunk is up to twice this, and doubles (default 25 ms). */
  baseDelayMs?: number;
  /** No wait is longer than this (default 1 s). */
  maxDelayMs?: number;
  /** How to wait; tests pass one that records the delays instead. */
  sleep?: (ms: number) => Promise<unknown>;
  /** The jitter's source, in [0, 1). */
  random?: () => number;
}

/** What DynamoDB still had not processed when the attempts ran out: nothing of it was done. */
export class UnprocessedBatchError extends Error {
  override readonly name = 'UnprocessedBatchError';
  constructor(
    readonly operation: 'BatchGetItem' | 'BatchWriteItem',
    readonly table: string,
    readonly unprocessed: readonly (Key | WriteRequest)[],
    readonly attempts: number,
  ) {
    const what = operation === 'BatchGetItem' ? 'keys' : 'requests';
    super(`${operation} on ${table} left ${unprocessed.length} ${what} unprocessed after ${attempts} attempts`);
  }
}

/** Writes every request, 25 a call; the order of the requests is not kept. */
export async function batchWriteAll(
  client: DynamoDBDocumentClient,
  table: string,
  requests: readonly WriteRequest[],
  options: BatchRetryOptions = {},
): Promise<void> {
  for (const chunk of chunks(requests, BATCH_WRITE_LIMIT)) {
    await untilProcessed('BatchWriteItem', table, chunk, options, async (pending) => {
      const result = await client.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      return result.UnprocessedItems?.[table] ?? [];
    });
  }
}

/**
 * The items of these keys, 100 keys a call, in no particular order; a key with no item is
 * left out. A key given twice is asked for once (DynamoDB refuses a call that repeats a key).
 */
export async function batchGetAll(
  client: DynamoDBDocumentClient,
  table: string,
  keys: readonly Key[],
  options: BatchRetryOptions & { consistentRead?: boolean } = {},
): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  for (const chunk of chunks(distinct(keys), BATCH_GET_LIMIT)) {
    await untilProcessed('BatchGetItem', table, chunk, options, async (pending) => {
      const result = await client.send(
        new BatchGetCommand({
          RequestItems: { [table]: { Keys: pending, ...(options.consistentRead && { ConsistentRead: true }) } },
        }),
      );
      found.push(...(result.Responses?.[table] ?? []));
      return result.UnprocessedKeys?.[table]?.Keys ?? [];
    });
  }
  return found;
}

async function untilProcessed<Item extends Key | WriteRequest>(
  operation: UnprocessedBatchError['operation'],
  table: string,
  items: Item[],
  options: BatchRetryOptions,
  send: (pending: Item[]) => Promise<Item[]>,
): Promise<void> {
  const { maxAttempts = 8, baseDelayMs = 25, maxDelayMs = 1_000, random = Math.random } = options;
  const wait = options.sleep ?? sleep;
  let pending = items;
  for (let attempt = 1; ; attempt++) {
    pending = await send(pending);
    if (pending.length === 0) return;
    if (attempt >= maxAttempts) throw new UnprocessedBatchError(operation, table, pending, attempt);
    // Full jitter: writers throttled together do not all come back at the same moment.
    await wait(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** attempt));
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

function distinct(keys: readonly Key[]): Key[] {
  const seen = new Map<string, Key>();
  for (const key of keys) {
    const identity = JSON.stringify(Object.entries(key).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    if (!seen.has(identity)) seen.set(identity, key);
  }
  return [...seen.values()];
}
