// Local DynamoDB: dynalite (the real wire protocol, LevelDB on disk) behind a thin proxy
// that adds what dynalite lacks and the product relies on: a stream of inserted items.
// A captured insert is stored durably before the client hears "200", and anything that
// slipped through (a crash between dynalite's write and the capture) is found again at
// start-up by `unpublishedItems`.
import { createServer, request, Agent, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException, paginateScan } from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { LocalTable } from './template.ts';

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

function readBody(message: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    message.on('data', (chunk: Buffer) => chunks.push(chunk));
    message.on('end', () => resolve(Buffer.concat(chunks)));
    message.on('error', reject);
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
}): Promise<LocalDynamoDb> {
  const backend = dynalite({ path: options.directory, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const backendPort = await listen(backend, 0, '127.0.0.1');
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const streamTables = new Map(options.tables.filter((t) => t.streamViewType).map((t) => [t.name, t]));

  const front = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      const target = String(req.headers['x-amz-target'] ?? '');
      const upstream = await forward(backendPort, agent, req, body);
      if (upstream.status === 200 && target.endsWith('.PutItem')) {
        const input = JSON.parse(body.toString('utf8')) as { TableName: string; Item: DynamoItem };
        const table = streamTables.get(input.TableName);
        if (table) await options.onInsert({ table, keys: keysOf(table, input.Item), newImage: input.Item });
      }
      res.writeHead(upstream.status, upstream.headers);
      res.end(upstream.body);
    } catch (error) {
      res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: String(error) }));
    }
  });
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
      agent.destroy();
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

function forward(port: number, agent: Agent, req: IncomingMessage, body: Buffer) {
  return new Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }>((resolve, reject) => {
    const upstream = request(
      { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, agent },
      async (response) => {
        try {
          const headers = Object.fromEntries(
            Object.entries(response.headers).filter((entry): entry is [string, string | string[]] => entry[1] !== undefined),
          );
          resolve({ status: response.statusCode ?? 500, headers, body: await readBody(response) });
        } catch (error) {
          reject(error as Error);
        }
      },
    );
    upstream.on('error', reject);
    upstream.end(body);
  });
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
