// The event log in DynamoDB: one item per event, keyed (blob_id, version), written with a
// conditional put and never updated. The table's stream is what publishes the events.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isDeepStrictEqual } from 'node:util';
import { batchGetAll } from '../aws/dynamodb-batch.ts';
import type { BlobEvent } from '../blob/events.ts';
import { eventOf, VersionConflictError, type EventStore } from './event-store.ts';

export class DynamoDbEventStore implements EventStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async read(blobId: string): Promise<BlobEvent[]> {
    const events: BlobEvent[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'blob_id = :blob_id',
          ExpressionAttributeValues: { ':blob_id': blobId },
          // Read-your-writes: a GET right after POST must see the blob.
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      events.push(...(page.Items ?? []).map(eventOf));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return events;
  }

  async readThrough(versions: ReadonlyMap<string, number>): Promise<Map<string, BlobEvent[]>> {
    // Versions are 1, 2, 3...: knowing the last one names every key, so one BatchGetItem
    // reads many blobs' logs where a Query would read one.
    const keys = [...versions].flatMap(([blobId, last]) => Array.from({ length: last }, (_, i) => ({ blob_id: blobId, version: i + 1 })));
    const found = (await batchGetAll(this.client, this.tableName, keys, { consistentRead: true })).map(eventOf);
    const logs = new Map<string, BlobEvent[]>();
    for (const event of found) {
      const log = logs.get(event.blob_id);
      if (log) log.push(event);
      else logs.set(event.blob_id, [event]);
    }
    for (const [blobId, events] of logs) {
      if (events.length === versions.get(blobId)) events.sort((a, b) => a.version - b.version);
      else logs.delete(blobId);
    }
    return logs;
  }

  async append(event: BlobEvent): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: event,
          ConditionExpression: 'attribute_not_exists(version)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        if ((error.$metadata.attempts ?? 1) > 1 && (await this.isStored(event))) return;
        throw new VersionConflictError(event.blob_id, event.version);
      }
      throw error;
    }
  }

  /**
   * Whether this very event is in the log. A put that timed out may have been written all the
   * same; the SDK's retry then meets its own item, which is success, not a conflict.
   */
  private async isStored(event: BlobEvent): Promise<boolean> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { blob_id: event.blob_id, version: event.version }, ConsistentRead: true }),
    );
    return Item !== undefined && isDeepStrictEqual(Item, JSON.parse(JSON.stringify(event)));
  }
}
