// The request units the bench prices (local/dynamodb-capacity.ts), against DynamoDB's documented
// rules: sizes from names and values, 1 KB per write unit, 4 KB per read unit, halved when
// eventually consistent, Query summing its items before rounding, one minimum unit per request.
import { describe, expect, it } from 'vitest';
import { consumedUnits, itemSize } from '../dynamodb-capacity.ts';

const tables = new Map([
  ['log', { indexKeys: [] }],
  ['rows', { indexKeys: [['list_pk', 'blob_id'], ['status_pk', 'blob_id']] }],
]);
const text = (bytes: number) => ({ S: 'x'.repeat(bytes) });

describe('item sizes', () => {
  it('adds attribute names and values, UTF-8 bytes for strings', () => {
    expect(itemSize({ id: { S: 'abc' } })).toBe(5);
    expect(itemSize({ é: { S: 'é' } })).toBe(4);
  });

  it('sizes a number by its significant digits', () => {
    expect(itemSize({ n: { N: '12345' } })).toBe(1 + 4); // ceil(5/2) + 1
    expect(itemSize({ n: { N: '-0.00100' } })).toBe(1 + 2);
  });

  it('gives a map or list 3 bytes and each element 1 more', () => {
    expect(itemSize({ m: { M: { a: { S: 'xy' } } } })).toBe(1 + 3 + 1 + 1 + 2);
    expect(itemSize({ l: { L: [{ BOOL: true }, { NULL: true }] } })).toBe(1 + 3 + 2 + 2);
    expect(itemSize({ b: { B: Buffer.from('hello').toString('base64') as unknown as Uint8Array } })).toBe(1 + 5);
  });
});

describe('request units', () => {
  it('charges a write 1 unit per KB, rounded up', () => {
    expect(consumedUnits('PutItem', { TableName: 'log', Item: { k: text(100) } }, {}, tables)).toEqual({ read: 0, write: 1 });
    expect(consumedUnits('PutItem', { TableName: 'log', Item: { k: text(1024) } }, {}, tables)).toEqual({ read: 0, write: 2 });
  });

  it('charges a write again for each index the item is in', () => {
    const row = { pk: { S: 'b' }, sk: { S: 'blob' }, blob_id: { S: 'b' }, list_pk: { S: 'all' } };
    expect(consumedUnits('PutItem', { TableName: 'rows', Item: row }, {}, tables).write).toBe(2);
    expect(consumedUnits('PutItem', { TableName: 'rows', Item: { ...row, status_pk: { S: 'DONE' } } }, {}, tables).write).toBe(3);
  });

  it('sums a Query before rounding to 4 KB, and halves an eventually consistent read', () => {
    const items = [{ k: text(3000) }, { k: text(3000) }];
    expect(consumedUnits('Query', { ConsistentRead: true }, { Items: items }, tables)).toEqual({ read: 2, write: 0 });
    expect(consumedUnits('Query', {}, { Items: items }, tables)).toEqual({ read: 1, write: 0 });
    expect(consumedUnits('Query', { ConsistentRead: true }, { Items: [] }, tables)).toEqual({ read: 1, write: 0 });
  });

  it('rounds each item of a BatchGetItem on its own', () => {
    const response = { Responses: { log: [{ k: text(100) }, { k: text(100) }] } };
    expect(consumedUnits('BatchGetItem', { RequestItems: { log: { ConsistentRead: true } } }, response, tables).read).toBe(2);
  });

  it('charges a batch write per item written, not for what came back unprocessed', () => {
    const put = (n: number) => ({ PutRequest: { Item: { k: text(n) } } });
    const request = { RequestItems: { log: [put(10), put(2000), put(20)] } };
    expect(consumedUnits('BatchWriteItem', request, {}, tables).write).toBe(1 + 2 + 1);
    expect(consumedUnits('BatchWriteItem', request, { UnprocessedItems: { log: [put(20)] } }, tables).write).toBe(3);
  });
});
