// The read model: one row per blob (its latest folded state) plus one row per label of a
// labeled blob, so lists by status or by label are single queries, newest first (ULIDs
// sort by time). Rows are derived from the log alone, so writing them is idempotent and
// the whole table can be rebuilt.
//
// Every list is one owner's: the partition keys a list queries name the owner (`OWNER#<owner>`
// for all of them, `...#STATUS#<status>`, `...#LABEL#<label>`), so a query can only ever read
// the caller's rows; nothing is filtered out after the fact. Rows written before owners
// (`BLOBS`, `STATUS#<status>`, `LABEL#<label>`) are never matched by these keys.
// The expiry sweep alone reads across owners, through the sparse `Unfinished` index.
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { BlobState } from '../blob/state.ts';
import type { InvocationStatus } from '../http/resources.ts';
import { batchGetAll, batchWriteAll } from '../aws/dynamodb-batch.ts';
import { toBlobResource, type BlobResource } from '../blob/representation.ts';

/** The row's copy of the resource; links are added per request, the upload URL never. */
export type BlobSnapshot = Omit<BlobResource, '_links' | 'upload_url' | 'upload_expires_on'>;

export interface BlobRow {
  pk: string;
  sk: 'BLOB';
  blob_id: string;
  version: number;
  owner: string;
  invocation_status: InvocationStatus;
  upload_expires_at: string;
  /** The owner's list (index All). */
  list_pk: string;
  /** The owner's list of blobs in this status (index ByStatus). */
  status_pk: string;
  /** Only while the blob may still need the sweep (ACTION_REQUIRED, IN_PROGRESS): index Unfinished. */
  unfinished_pk?: string;
  blob: BlobSnapshot;
}

export const indexes = { all: 'All', byStatus: 'ByStatus', unfinished: 'Unfinished' } as const;

const unfinishedStatuses: readonly InvocationStatus[] = ['ACTION_REQUIRED', 'IN_PROGRESS'];

const blobKey = (blobId: string) => ({ pk: `BLOB#${blobId}`, sk: 'BLOB' });
// The owner is escaped so that no owner name (a JWT sub can hold anything) reads as another
// owner's key followed by a status or label: `#` never appears in it.
const ownerPk = (owner: string) => `OWNER#${encodeURIComponent(owner)}`;
const statusPk = (owner: string, status: InvocationStatus) => `${ownerPk(owner)}#STATUS#${status}`;
const labelPk = (owner: string, label: string) => `${ownerPk(owner)}#LABEL#${label}`;
const unfinishedPk = (status: InvocationStatus) => `STATUS#${status}`;

export function toSnapshot(state: BlobState): BlobSnapshot {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { _links, upload_url, upload_expires_on, ...snapshot } = toBlobResource(state, { self: '' });
  return snapshot;
}

export class BlobProjection {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Writes the blob's rows unless a newer version is already there. */
  async project(state: BlobState): Promise<'written' | 'stale'> {
    const row: BlobRow = {
      ...blobKey(state.blob_id),
      sk: 'BLOB',
      blob_id: state.blob_id,
      version: state.version,
      owner: state.owner,
      invocation_status: state.invocation_status,
      upload_expires_at: state.upload.expires_at,
      list_pk: ownerPk(state.owner),
      status_pk: statusPk(state.owner, state.invocation_status),
      ...(unfinishedStatuses.includes(state.invocation_status) && { unfinished_pk: unfinishedPk(state.invocation_status) }),
      blob: toSnapshot(state),
    };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: row,
          ConditionExpression: 'attribute_not_exists(pk) OR version <= :version',
          ExpressionAttributeValues: { ':version': state.version },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'stale';
      throw error;
    }
    // Labels only ever arrive with the final state, so these rows never go out of date.
    const names = new Set((state.labels ?? []).map((label) => label.name));
    // One BatchWriteItem instead of a PutItem per label: a labeled blob has ~5-15 of them.
    await batchWriteAll(
      this.client,
      this.tableName,
      [...names].map((name) => ({
        PutRequest: { Item: { pk: labelPk(state.owner, name), sk: state.blob_id, blob_id: state.blob_id, invocation_status: state.invocation_status } },
      })),
    );
    return 'written';
  }

  async page(query: BlobQuery): Promise<{ rows: BlobRow[]; lastKey?: Record<string, unknown> }> {
    const page = await this.client.send(new QueryCommand({ TableName: this.tableName, ...keyCondition(query), ScanIndexForward: false, Limit: query.limit, ExclusiveStartKey: query.startKey }));
    const items = (page.Items ?? []) as Record<string, unknown>[];
    const rows = query.label
      ? // The label rows are the owner's by their key; the check is a second lock, not the filter.
        (await this.rowsOf(items.map((item) => String(item.blob_id)))).filter((row) => row.owner === query.owner)
      : (items as unknown as BlobRow[]);
    return { rows, ...(page.LastEvaluatedKey && { lastKey: page.LastEvaluatedKey }) };
  }

  /** Blobs still waiting for their upload whose URL expired before `cutoff`. */
  waitingSince(cutoff: string): AsyncGenerator<BlobRow> {
    return this.inStatus('ACTION_REQUIRED', 'upload_expires_at < :cutoff', cutoff);
  }

  /** Blobs whose labeling started before `cutoff` and has not ended. */
  inProgressSince(cutoff: string): AsyncGenerator<BlobRow> {
    return this.inStatus('IN_PROGRESS', '#blob.started_on < :cutoff', cutoff, { '#blob': 'blob' });
  }

  private async *inStatus(status: InvocationStatus, filter: string, cutoff: string, names?: Record<string, string>) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: indexes.unfinished,
          KeyConditionExpression: 'unfinished_pk = :status',
          FilterExpression: filter,
          ExpressionAttributeValues: { ':status': unfinishedPk(status), ':cutoff': cutoff },
          ...(names && { ExpressionAttributeNames: names }),
          ExclusiveStartKey: startKey,
        }),
      );
      yield* (page.Items ?? []) as BlobRow[];
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  private async rowsOf(blobIds: string[]): Promise<BlobRow[]> {
    if (blobIds.length === 0) return [];
    const rows = (await batchGetAll(this.client, this.tableName, blobIds.map(blobKey))) as unknown as BlobRow[];
    const found = new Map(rows.map((row) => [row.blob_id, row]));
    return blobIds.flatMap((id) => found.get(id) ?? []);
  }
}

export interface BlobQuery {
  /** Whose blobs: a list never reaches past one owner's partitions. */
  owner: string;
  status?: InvocationStatus;
  label?: string;
  limit: number;
  startKey?: Record<string, unknown>;
}

/**
 * Whether `key` can be where a page of `query` left off: exactly the key attributes of the
 * index the query reads, all strings, in the query's partition. DynamoDB refuses anything else
 * with a ValidationException, which is the client's mistake (a cursor it made up), not ours.
 */
export function isStartKeyOf(query: Omit<BlobQuery, 'limit' | 'startKey'>, key: Record<string, unknown>): boolean {
  const partition: Record<string, string> = query.label
    ? { pk: labelPk(query.owner, query.label) }
    : query.status
      ? { status_pk: statusPk(query.owner, query.status) }
      : { list_pk: ownerPk(query.owner) };
  const names = query.label ? ['pk', 'sk'] : ['pk', 'sk', Object.keys(partition)[0]!, 'blob_id'];
  const given = Object.keys(key);
  return (
    given.length === names.length &&
    names.every((name) => typeof key[name] === 'string' && (partition[name] === undefined || key[name] === partition[name]))
  );
}

function keyCondition(query: BlobQuery) {
  if (query.label) {
    return {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': labelPk(query.owner, query.label), ...(query.status && { ':status': query.status }) },
      ...(query.status && { FilterExpression: 'invocation_status = :status' }),
    };
  }
  if (query.status) {
    return {
      IndexName: indexes.byStatus,
      KeyConditionExpression: 'status_pk = :status',
      ExpressionAttributeValues: { ':status': statusPk(query.owner, query.status) },
    };
  }
  return {
    IndexName: indexes.all,
    KeyConditionExpression: 'list_pk = :owner',
    ExpressionAttributeValues: { ':owner': ownerPk(query.owner) },
  };
}
