// The event log in DynamoDB: one item per event, keyed (blob_id, version), written with a
// conditional put and never updated. The table's stream is what publishes the events.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BlobEvent } from '../blob/events.ts';
import { VersionConflictError, type EventStore } from './event-store.ts';

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
      events.push(...((page.Items ?? []) as BlobEvent[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return events;
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
        throw new VersionConflictError(event.blob_id, event.version);
      }
      throw error;
    }
  }
}
