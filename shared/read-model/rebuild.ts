// Rebuilds the read model from the event log: the log is the truth, the read model only a
// fold of it, so it can always be thrown away and made again.
import { paginateScan, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchWriteAll } from '../aws/dynamodb-batch.ts';
import type { BlobEvent } from '../blob/events.ts';
import { foldBlob } from '../blob/state.ts';
import type { BlobProjection } from './blob-projection.ts';

export interface RebuildResult {
  blobs: number;
  deletedRows: number;
}

export async function rebuildReadModel(options: {
  client: DynamoDBDocumentClient;
  eventsTable: string;
  readModelTable: string;
  projection: BlobProjection;
  /** Delete every read-model row first (otherwise rows are only overwritten). */
  fromScratch: boolean;
}): Promise<RebuildResult> {
  const deletedRows = options.fromScratch ? await deleteAll(options.client, options.readModelTable) : 0;
  let blobs = 0;
  let current: BlobEvent[] = [];
  const flush = async () => {
    const state = foldBlob(current.sort((a, b) => a.version - b.version));
    if (state) {
      await options.projection.project(state);
      blobs++;
    }
    current = [];
  };
  // A scan returns each partition's items together, so a blob's log arrives in one run.
  for await (const page of paginateScan({ client: options.client }, { TableName: options.eventsTable, ConsistentRead: true })) {
    for (const event of (page.Items ?? []) as BlobEvent[]) {
      if (current.length > 0 && current[0]!.blob_id !== event.blob_id) await flush();
      current.push(event);
    }
  }
  await flush();
  return { blobs, deletedRows };
}

async function deleteAll(client: DynamoDBDocumentClient, table: string): Promise<number> {
  let deleted = 0;
  for await (const page of paginateScan({ client }, { TableName: table, ProjectionExpression: 'pk, sk' })) {
    const keys = page.Items ?? [];
    await batchWriteAll(client, table, keys.map((key) => ({ DeleteRequest: { Key: key } })));
    deleted += keys.length;
  }
  return deleted;
}
