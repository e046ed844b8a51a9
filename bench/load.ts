// Closed-loop load: N clients each send their next request as soon as the last one answered,
// until a request count or a time limit is reached, whichever comes first.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamoDb } from '../local/dynamodb.ts';

export interface LoadLimits {
  clients: number;
  maxRequests: number;
  maxMs: number;
}

/**
 * Load before a measured run, not counted: the same clients and requests for a few seconds, so
 * that V8 has compiled the hot paths (a cold start ran the POST path ~20% slower for its first
 * 10 s) and the sockets and LevelDB files exist. Both sides of a ratio get the same warm-up.
 */
export const WARM_UP_MS = 5000;

export async function warmUp(limits: LoadLimits, send: () => Promise<boolean>): Promise<void> {
  await closedLoop({ clients: limits.clients, maxRequests: Number.POSITIVE_INFINITY, maxMs: WARM_UP_MS }, send);
}

export interface LoadResult {
  ok: number;
  failed: number;
  seconds: number;
  /** Successful requests per second. */
  rate: number;
}

export async function closedLoop(limits: LoadLimits, send: () => Promise<boolean>): Promise<LoadResult> {
  let issued = 0;
  let ok = 0;
  let failed = 0;
  const started = performance.now();
  const deadline = started + limits.maxMs;
  const client = async () => {
    while (issued < limits.maxRequests && performance.now() < deadline) {
      issued += 1;
      const succeeded = await send().catch(() => false);
      if (succeeded) ok += 1;
      else failed += 1;
    }
  };
  await Promise.all(Array.from({ length: limits.clients }, client));
  const seconds = (performance.now() - started) / 1000;
  return { ok, failed, seconds, rate: ok / seconds };
}

const SCRATCH_TABLE = 'bench-scratch';

/** Shaped like an event-log item (blob_id, version, type, time, a JSON-ish payload) so sizes compare. */
function eventLikeItem(sequence: number) {
  return {
    blob_id: { S: `bench-${process.pid}-${sequence.toString().padStart(8, '0')}` },
    version: { N: '1' },
    type: { S: 'BlobCreated' },
    schema_version: { N: '1' },
    occurred_at: { S: new Date().toISOString() },
    data: {
      M: {
        upload: { M: { bucket: { S: 'image-labeling-uploadbucket' }, key: { S: `uploads/${sequence}` }, expires_at: { S: new Date().toISOString() } } },
        labeling: { M: { max_labels: { N: '20' }, min_confidence: { N: '35' } } },
      },
    },
  };
}

async function createScratchTable(client: DynamoDBClient): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: SCRATCH_TABLE,
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
}

/**
 * The local DynamoDB's own conditional-put rate: the stack's startDynamoDb (dynalite with its
 * stream capture, LevelDB on disk) started in this process, with the same conditional
 * PutItem the event store does for every append, into a scratch table.
 */
export async function measureRawConditionalPuts(limits: LoadLimits): Promise<LoadResult> {
  const directory = mkdtempSync(join(tmpdir(), 'image-labeling-bench-ddb-'));
  const dynamodb = await startDynamoDb({ directory, host: '127.0.0.1', tables: [], onInsert: async () => {} });
  try {
    await createScratchTable(dynamodb.client);
    let sequence = 0;
    const put = async () => {
      sequence += 1;
      await dynamodb.client.send(
        new PutItemCommand({ TableName: SCRATCH_TABLE, Item: eventLikeItem(sequence), ConditionExpression: 'attribute_not_exists(version)' }),
      );
      return true;
    };
    await warmUp(limits, put);
    return await closedLoop(limits, put);
  } finally {
    await dynamodb.close();
    rmSync(directory, { recursive: true, force: true });
  }
}
