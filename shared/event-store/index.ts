import { dynamoDb } from '../aws/dynamodb.ts';
import { config } from '../config.ts';
import { DynamoDbEventStore } from './dynamodb-event-store.ts';
import type { EventStore } from './event-store.ts';

export type { EventStore } from './event-store.ts';
export { VersionConflictError } from './event-store.ts';

let store: EventStore | undefined;

/** The event log the functions share, as the template configures it. */
export function eventStore(): EventStore {
  store ??= new DynamoDbEventStore(dynamoDb(), config().eventsTable);
  return store;
}
