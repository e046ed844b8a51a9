// The local DynamoDB must not keep a LevelDB iterator open after a Query or Scan has been
// answered: dynalite left one open per request, and a stack whose clients poll GET /blobs/{id}
// (a Query each) grew by ~1 MB per labeled image until it was restarted (issue 13).
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, PutItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynamoDb, type LocalDynamoDb } from '../dynamodb.ts';

interface LevelIterator {
  next(): Promise<unknown>;
}
type IteratorFactory = (this: unknown, options?: unknown) => LevelIterator;

/** The LevelDB database class dynalite uses (dynalite -> level -> classic-level -> abstract-level). */
function abstractLevelPrototype(): Record<'keys' | 'values' | 'iterator', IteratorFactory> {
  let from = import.meta.url;
  for (const name of ['dynalite', 'level', 'classic-level']) from = createRequire(from).resolve(name);
  const { AbstractLevel } = createRequire(from)('abstract-level') as { AbstractLevel: { prototype: Record<'keys' | 'values' | 'iterator', IteratorFactory> } };
  return AbstractLevel.prototype;
}

/** Records every iterator opened on any LevelDB database while `run` runs (a spy: the iterators are the real ones). */
async function iteratorsOpenedDuring(run: () => Promise<void>): Promise<LevelIterator[]> {
  const prototype = abstractLevelPrototype();
  const opened: LevelIterator[] = [];
  const originals = { keys: prototype.keys, values: prototype.values, iterator: prototype.iterator };
  for (const method of ['keys', 'values', 'iterator'] as const) {
    prototype[method] = function (this: unknown, options?: unknown) {
      const iterator = originals[method].call(this, options);
      opened.push(iterator);
      return iterator;
    };
  }
  try {
    await run();
  } finally {
    Object.assign(prototype, originals);
  }
  return opened;
}

/** A closed abstract-level iterator refuses to read; an open one at its end answers undefined. */
async function isClosed(iterator: LevelIterator): Promise<boolean> {
  try {
    await iterator.next();
    return false;
  } catch (error) {
    return (error as { code?: string }).code === 'LEVEL_ITERATOR_NOT_OPEN';
  }
}

const TABLE = 'iterator-test';
let directory: string;
let dynamodb: LocalDynamoDb;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'local-dynamodb-iterators-'));
  dynamodb = await startDynamoDb({ directory, host: '127.0.0.1', tables: [], onInsert: async () => {} });
  await dynamodb.client.send(
    new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [
        { AttributeName: 'blob_id', KeyType: 'HASH' },
        { AttributeName: 'version', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'blob_id', AttributeType: 'S' },
        { AttributeName: 'version', AttributeType: 'N' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  for (const blobId of ['a', 'b']) {
    for (const version of [1, 2, 3]) {
      await dynamodb.client.send(new PutItemCommand({ TableName: TABLE, Item: { blob_id: { S: blobId }, version: { N: String(version) } } }));
    }
  }
});

afterAll(async () => {
  await dynamodb?.close();
  rmSync(directory, { recursive: true, force: true });
});

const query = (extra: Partial<ConstructorParameters<typeof QueryCommand>[0]> = {}) =>
  new QueryCommand({
    TableName: TABLE,
    KeyConditionExpression: 'blob_id = :b',
    ExpressionAttributeValues: { ':b': { S: 'a' } },
    ConsistentRead: true,
    ...extra,
  });

describe('the local DynamoDB closes the LevelDB iterators of a request once it is answered', () => {
  it.each([
    ['a Query read to its end', () => query(), 3],
    ['a Query stopped early by Limit', () => query({ Limit: 1 }), 1],
    ['a Query of a key with no items', () => query({ ExpressionAttributeValues: { ':b': { S: 'none' } } }), 0],
    ['a Scan', () => new ScanCommand({ TableName: TABLE }), 6],
  ])('%s', async (_, command, expectedItems) => {
    let items = -1;
    const opened = await iteratorsOpenedDuring(async () => {
      const result = await dynamodb.client.send(command() as QueryCommand);
      items = result.Items?.length ?? 0;
    });
    expect(items).toBe(expectedItems);
    expect(opened.length).toBeGreaterThan(0);
    const closed = await Promise.all(opened.map(isClosed));
    expect(closed).toEqual(opened.map(() => true));
  });
});
