// A queue consumer as template.yaml wires it, run in-process: the local DynamoDB with the
// template's tables, the bus with the rule that queues for the consumer, the local SQS with its
// event sources, and the real handlers. A test names the consumer and may override its queue
// (typically a visibility timeout of 0, so the receives before a redrive take moments).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import { DurableQueues } from '../../local/durable-queue.ts';
import { startDynamoDb, type LocalDynamoDb } from '../../local/dynamodb.ts';
import { LocalEventBridge } from '../../local/eventbridge/bus.ts';
import { LambdaRuntime, mergedEnvironment, sourceModule } from '../../local/lambda-runtime.ts';
import { LocalSqs } from '../../local/sqs.ts';
import type { LocalFunction, LocalQueue } from '../../local/template.ts';
import { BLOB_EVENT_SOURCE, type BlobEvent } from '../../shared/blob/events.ts';
import { DynamoDbEventStore } from '../../shared/event-store/dynamodb-event-store.ts';
import { loadTestTemplate, projectRoot, ruleReaching } from './template.ts';

export interface QueueRig {
  template: ReturnType<typeof loadTestTemplate>;
  /** The consumer's queue, with the test's overrides. */
  queue: LocalQueue;
  dynamodb: LocalDynamoDb;
  documentClient: DynamoDBDocumentClient;
  store: DynamoDbEventStore;
  queues: DurableQueues;
  runtime: LambdaRuntime;
  sqs: LocalSqs;
  /** Ids of the messages the local SQS moved to a dead-letter queue. */
  deadLettered: string[];
  /** Puts blob events (or what claims to be one) on the bus as the pipe would; the rule queues them for the consumer. */
  publish(events: ReadonlyArray<Pick<BlobEvent, 'type'>>): Promise<void>;
  close(): Promise<void>;
}

export async function startQueueRig(options: {
  name: string;
  /** The function that polls the queue under test. */
  consumer: string;
  queue?: Partial<LocalQueue>;
  /** Also run the function that polls the queue's dead-letter queue. */
  withDeadLetterConsumer?: boolean;
  environment?: Record<string, string>;
}): Promise<QueueRig> {
  const template = loadTestTemplate();
  const consumer = template.functions.find((fn) => fn.logicalId === options.consumer)!;
  const source = consumer.queueSources[0]!;
  const rule = ruleReaching(template, consumer.logicalId);
  const queue = { ...template.queues.find((candidate) => candidate.name === source.queue)!, ...options.queue };
  const consumers: LocalFunction[] = [consumer];
  if (options.withDeadLetterConsumer) {
    consumers.push(template.functions.find((fn) => fn.queueSources.some((s) => s.queue === queue.redrive!.deadLetterQueue))!);
  }

  const directory = mkdtempSync(join(tmpdir(), `${options.name}-`));
  const dynamodb = await startDynamoDb({ directory: join(directory, 'db'), host: '127.0.0.1', tables: template.tables, onInsert: async () => {} });
  Object.assign(process.env, {
    ...mergedEnvironment(template.functions),
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_LAMBDA_MAX_CONCURRENCY: '64',
    ...options.environment,
  });
  const queues = await DurableQueues.open(join(directory, 'queues'));
  const runtime = new LambdaRuntime(sourceModule(projectRoot));
  await runtime.load(consumers);
  const deadLettered: string[] = [];
  const sqs = new LocalSqs({
    definitions: template.queues.map((candidate) => (candidate.name === queue.name ? queue : candidate)),
    queues,
    runtime,
    region: 'us-east-1',
    logger: { error: (_message, fields) => deadLettered.push(String(fields.message_id)) },
  });
  for (const fn of consumers) sqs.startEventSource(fn.logicalId, fn.queueSources[0]!);
  const bus = new LocalEventBridge({
    buses: template.buses,
    rules: [rule],
    queues,
    runtime,
    sqs,
    region: 'us-east-1',
    accountId: '000000000000',
    logger: { error: () => {} },
  });
  const documentClient = DynamoDBDocumentClient.from(dynamodb.client);
  const eventsTable = template.tables.find((table) => table.logicalId === 'BlobEventsTable')!.name;

  return {
    template,
    queue,
    dynamodb,
    documentClient,
    store: new DynamoDbEventStore(documentClient, eventsTable),
    queues,
    runtime,
    sqs,
    deadLettered,
    async publish(events) {
      const results = await bus.putEvents(
        events.map((event) => ({ EventBusName: rule.busName, Source: BLOB_EVENT_SOURCE, DetailType: event.type, Detail: JSON.stringify(event) })),
      );
      expect(results.every((result) => result.EventId)).toBe(true);
    },
    async close() {
      await queues.close();
      await dynamodb.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
