// BatchWriteItem takes 25 requests at a time and may hand some back unprocessed (throttling);
// AWS asks callers to resend those with exponential backoff, which is all this does.
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';

type WriteRequest = NonNullable<ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']>[string][number];

const MAX_BATCH = 25;
const MAX_ROUNDS = 8;

export async function batchWriteAll(client: DynamoDBDocumentClient, table: string, requests: WriteRequest[]): Promise<void> {
  for (let start = 0; start < requests.length; start += MAX_BATCH) {
    let pending = requests.slice(start, start + MAX_BATCH);
    for (let round = 0; pending.length > 0; round += 1) {
      if (round === MAX_ROUNDS) throw new Error(`BatchWriteItem left ${pending.length} requests unprocessed after ${MAX_ROUNDS} rounds`);
      if (round > 0) await sleep(Math.min(1000, 25 * 2 ** round));
      const result = await client.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = result.UnprocessedItems?.[table] ?? [];
    }
  }
}
