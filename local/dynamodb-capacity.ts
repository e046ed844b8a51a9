// DynamoDB's request units for one request, computed from item sizes as DynamoDB does for an
// on-demand table (Developer Guide, "Item sizes and formats" and "DynamoDB read and write
// operations"): a write is 1 unit per KB of the item written, rounded up, plus the same for each
// global secondary index the item appears in; a read is 1 unit per 4 KB, rounded up (Query and
// Scan round the sum of the items they read, BatchGetItem and GetItem each item), halved for
// an eventually consistent read; a read that finds nothing still costs its minimum.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

type Item = Record<string, AttributeValue>;

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/** A number's size: about one byte per two significant digits, plus one. */
function numberSize(text: string): number {
  const digits = text.replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/** Binary values arrive base64-encoded on the wire (a Uint8Array through the SDK). */
const binarySize = (b: unknown): number => (typeof b === 'string' ? Buffer.from(b, 'base64').length : (b as Uint8Array).length);

function valueSize(value: AttributeValue): number {
  if ('S' in value && value.S !== undefined) return utf8(value.S);
  if ('N' in value && value.N !== undefined) return numberSize(value.N);
  if ('B' in value && value.B !== undefined) return binarySize(value.B);
  if ('BOOL' in value || 'NULL' in value) return 1;
  if ('SS' in value && value.SS) return value.SS.reduce((sum, s) => sum + utf8(s), 0);
  if ('NS' in value && value.NS) return value.NS.reduce((sum, n) => sum + numberSize(n), 0);
  if ('BS' in value && value.BS) return value.BS.reduce((sum, b) => sum + binarySize(b), 0);
  // A list or map: 3 bytes, plus 1 per element, plus its elements (and a map's names).
  if ('L' in value && value.L) return 3 + value.L.reduce((sum, element) => sum + 1 + valueSize(element), 0);
  if ('M' in value && value.M) return 3 + Object.entries(value.M).reduce((sum, [name, element]) => sum + 1 + utf8(name) + valueSize(element), 0);
  return 0;
}

/** An item's size in bytes: its attribute names and values. */
export function itemSize(item: Item): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + valueSize(value), 0);
}

export interface TableShape {
  /** Each global secondary index's key attribute names: an item lacking one is not in it. */
  indexKeys: string[][];
}

export interface Units {
  read: number;
  write: number;
}

const writeUnits = (item: Item, table: TableShape | undefined): number => {
  const units = Math.max(1, Math.ceil(itemSize(item) / 1024));
  const indexes = (table?.indexKeys ?? []).filter((keys) => keys.every((key) => key in item)).length;
  return units * (1 + indexes);
};

const readUnits = (bytes: number, consistent: boolean): number => Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);

interface Request {
  TableName?: string;
  Item?: Item;
  ConsistentRead?: boolean;
  RequestItems?: Record<string, { PutRequest?: { Item: Item }; DeleteRequest?: unknown }[] | { ConsistentRead?: boolean }>;
}

interface Response {
  Item?: Item;
  Items?: Item[];
  Responses?: Record<string, Item[]>;
  UnprocessedItems?: Record<string, unknown[]>;
  UnprocessedKeys?: Record<string, { Keys?: unknown[] }>;
}

/**
 * The units one successful request consumed. Writes whose old item is not known here (a
 * DeleteItem, an UpdateItem, a delete in a batch, the old image an overwrite replaces) count
 * their minimum of one unit; the product appends to its log and overwrites read-model rows
 * with rows of the same size, so this is what DynamoDB would charge it.
 */
export function consumedUnits(operation: string, request: Request, response: Response, tables: Map<string, TableShape>): Units {
  switch (operation) {
    case 'PutItem':
      return { read: 0, write: writeUnits(request.Item ?? {}, tables.get(request.TableName ?? '')) };
    case 'UpdateItem':
    case 'DeleteItem':
      return { read: 0, write: 1 };
    case 'BatchWriteItem': {
      let write = 0;
      for (const [table, writes] of Object.entries(request.RequestItems ?? {})) {
        const unprocessed = new Set((response.UnprocessedItems?.[table] ?? []).map((w) => JSON.stringify(w)));
        for (const w of writes as { PutRequest?: { Item: Item } }[]) {
          if (unprocessed.has(JSON.stringify(w))) continue;
          write += w.PutRequest ? writeUnits(w.PutRequest.Item, tables.get(table)) : 1;
        }
      }
      return { read: 0, write };
    }
    case 'GetItem':
      return { read: readUnits(response.Item ? itemSize(response.Item) : 0, request.ConsistentRead === true), write: 0 };
    case 'BatchGetItem': {
      let read = 0;
      for (const [table, items] of Object.entries(response.Responses ?? {})) {
        const consistent = (request.RequestItems?.[table] as { ConsistentRead?: boolean } | undefined)?.ConsistentRead === true;
        for (const item of items) read += readUnits(itemSize(item), consistent);
      }
      return { read, write: 0 };
    }
    case 'Query':
    case 'Scan':
      return { read: readUnits((response.Items ?? []).reduce((sum, item) => sum + itemSize(item), 0), request.ConsistentRead === true), write: 0 };
    default:
      return { read: 0, write: 0 };
  }
}
