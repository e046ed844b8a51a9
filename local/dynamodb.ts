// Local DynamoDB: dynalite (the real wire protocol, LevelDB on disk), its request handler
// wrapped to add what dynalite lacks and the product relies on: a stream of inserted items.
// A captured insert is stored durably before the client hears "200", and anything that
// slipped through (a crash between dynalite's write and the capture) is found again at
// start-up by the pipes' recovery scan (`scanItems`).
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException, paginateScan } from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { closeDynaliteIteratorsOnReturn } from './dynalite-iterators.ts';
import { guardServer, guardedHandler, type SafetyLogger } from './http-safety.ts';
import { stackLogger } from './log.ts';
import { consumedUnits, type TableShape } from './dynamodb-capacity.ts';
import type { LocalTable } from './template.ts';
import { meter } from './usage.ts';

closeDynaliteIteratorsOnReturn();

export type DynamoItem = Record<string, AttributeValue>;

export interface StreamInsert {
  table: LocalTable;
  keys: DynamoItem;
  newImage: DynamoItem;
}

export interface LocalDynamoDb {
  url: string;
  client: DynamoDBClient;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

export function keysOf(table: LocalTable, item: DynamoItem): DynamoItem {
  return Object.fromEntries(table.keySchema.map((key) => [key.AttributeName, item[key.AttributeName]!]));
}

export async function startDynamoDb(options: {
  directory: string;
  host: string;
  tables: LocalTable[];
  onInsert: (insert: StreamInsert) => Promise<void>;
  logger?: SafetyLogger;
}): Promise<LocalDynamoDb> {
  const logger = options.logger ?? stackLogger;
  const backend = dynalite({ path: options.directory, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  // dynalite's own port is never used; listening only keeps its close() (which closes the
  // database) working. Requests reach its handler in-process, without a second HTTP hop.
  await listen(backend, 0, '127.0.0.1');
  const dynaliteHandler = backend.listeners('request')[0] as RequestListener;
  const streamTables = new Map(options.tables.filter((t) => t.streamViewType).map((t) => [t.name, t]));

  const shapes = new Map(options.tables.map((table) => [table.name, shapeOf(table)]));
  const front = createServer(
    guardedHandler('dynamodb', logger, (req, res) => {
      meterRequest(req, res, shapes);
      if (String(req.headers['x-amz-target'] ?? '').endsWith('.PutItem')) captureInsert(req, res, streamTables, options.onInsert);
      dynaliteHandler(req, res);
      // dynalite rethrows a request's error (`req.on('error', (err) => { throw err })`), so a
      // client that disconnected mid-body would take the whole process down with it.
      req.removeAllListeners('error');
      req.on('error', () => res.destroy());
    }),
  );
  guardServer(front, 'dynamodb', logger);
  front.keepAliveTimeout = 60_000;
  const port = await listen(front, 0, options.host);
  const url = `http://${options.host}:${port}`;
  // dynalite checks no signature; the client still needs something to sign with.
  const client = new DynamoDBClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await Promise.all(options.tables.map((table) => createTable(client, table)));

  return {
    url,
    client,
    close: async () => {
      client.destroy();
      // Consumers still running keep keep-alive connections busy; close() alone would wait on them.
      await Promise.all(
        [front, backend].map((server) => {
          const closed = new Promise((resolve) => server.close(resolve));
          server.closeAllConnections();
          return closed;
        }),
      );
    },
  };
}

function shapeOf(table: LocalTable): TableShape {
  const indexes = (table.globalSecondaryIndexes ?? []) as { KeySchema?: { AttributeName: string }[] }[];
  return { indexKeys: indexes.map((index) => (index.KeySchema ?? []).map((key) => key.AttributeName)) };
}

/**
 * Counts the request units a request consumed (local/usage.ts): from its body and the answer's.
 * A conditional write that failed its condition still consumes its write units, as in DynamoDB.
 */
function meterRequest(req: IncomingMessage, res: ServerResponse, shapes: Map<string, TableShape>): void {
  const operation = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  const end = res.end.bind(res) as (body?: string | Buffer) => ServerResponse;
  res.end = ((body?: string | Buffer) => {
    try {
      const answer = body === undefined ? '' : body.toString();
      const conditionFailed = res.statusCode === 400 && answer.includes('ConditionalCheckFailedException');
      if (res.statusCode === 200 || conditionFailed) {
        const request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Parameters<typeof consumedUnits>[1];
        const response = res.statusCode === 200 && answer ? (JSON.parse(answer) as Parameters<typeof consumedUnits>[2]) : {};
        meter.dynamodb(consumedUnits(operation, request, response, shapes));
      }
    } catch {
      // An answer this meter cannot read is still the client's answer; it only goes uncounted.
    }
    return end(body);
  }) as typeof res.end;
}

/**
 * A successful PutItem into a table with a stream becomes a stream record, stored durably
 * before the client hears "200": dynalite's response is held back until onInsert resolves.
 */
function captureInsert(
  req: IncomingMessage,
  res: ServerResponse,
  streamTables: Map<string, LocalTable>,
  onInsert: (insert: StreamInsert) => Promise<void>,
): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  const end = res.end.bind(res) as (body?: string | Buffer) => ServerResponse;
  const fail = (error: unknown): void => {
    if (res.headersSent) return void res.destroy();
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    res.statusCode = 500;
    res.setHeader('content-type', 'application/x-amz-json-1.0');
    end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: String(error) }));
  };
  // Called by dynalite, outside any handler of ours: nothing may be thrown back into it.
  res.end = ((body?: string | Buffer) => {
    let put: ReturnType<typeof streamPutOf>;
    try {
      put = res.statusCode === 200 ? streamPutOf(chunks, streamTables) : undefined;
    } catch (error) {
      fail(error);
      return res;
    }
    if (!put) return end(body);
    onInsert({ table: put.table, keys: keysOf(put.table, put.item), newImage: put.item })
      .then(() => end(body), fail)
      .catch(() => res.destroy());
    return res;
  }) as typeof res.end;
}

function streamPutOf(chunks: Buffer[], streamTables: Map<string, LocalTable>): { table: LocalTable; item: DynamoItem } | undefined {
  const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { TableName: string; Item: DynamoItem };
  const table = streamTables.get(input.TableName);
  return table && { table, item: input.Item };
}

async function createTable(client: DynamoDBClient, table: LocalTable): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table.name,
        KeySchema: table.keySchema,
        AttributeDefinitions: table.attributeDefinitions,
        BillingMode: 'PAY_PER_REQUEST',
        ...(table.globalSecondaryIndexes && {
          GlobalSecondaryIndexes: table.globalSecondaryIndexes as never,
        }),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}

/** Every item of a table, in key order: the start-up sweep for inserts a crash left unpublished. */
export async function* scanItems(client: DynamoDBClient, table: LocalTable): AsyncGenerator<DynamoItem> {
  for await (const page of paginateScan({ client }, { TableName: table.name, ConsistentRead: true })) {
    yield* page.Items ?? [];
  }
}
