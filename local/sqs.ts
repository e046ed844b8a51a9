// Local SQS, as far as template.yaml uses it: standard queues that EventBridge rules send to
// and that Lambda polls (event source mappings with a batch size, a batching window and
// partial batch responses), with a redrive policy to a dead-letter queue. There is no SQS API
// endpoint: nothing in the product calls SQS itself. Messages sit in LevelDB (DurableQueues)
// from the moment they are sent until the function has handled them.
import { createHash, randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { BatchOutcome, DurableQueues, QueueEntry } from './durable-queue.ts';
import type { LambdaRuntime } from './lambda-runtime.ts';
import type { LocalQueue, LocalQueueSource } from './template.ts';
import { chunksOf, meter } from './usage.ts';

interface StoredMessage {
  messageId: string;
  body: string;
  sentTimestamp: number;
}

export interface SqsLogger {
  error(message: string, fields: Record<string, unknown>): void;
}

export class BatchItemFailuresError extends Error {
  override readonly name = 'BatchItemFailuresError';
}

export class LocalSqs {
  private readonly queues: Map<string, LocalQueue>;

  constructor(
    private readonly deps: {
      definitions: LocalQueue[];
      queues: DurableQueues;
      runtime: LambdaRuntime;
      region: string;
      logger: SqsLogger;
    },
  ) {
    this.queues = new Map(deps.definitions.map((queue) => [queue.name, queue]));
    for (const queue of deps.definitions) {
      if (queue.redrive && !this.queues.has(queue.redrive.deadLetterQueue)) {
        throw new Error(`queue ${queue.name}: no dead-letter queue ${queue.redrive.deadLetterQueue}`);
      }
    }
  }

  has(queueName: string): boolean {
    return this.queues.has(queueName);
  }

  /** SendMessageBatch's promise: resolves once the messages would survive a crash. */
  async send(queueName: string, bodies: string[]): Promise<void> {
    if (!this.queues.has(queueName)) throw new Error(`no queue ${queueName}`);
    meter.sqsRequests(bodies.reduce((sum, body) => sum + chunksOf(Buffer.byteLength(body)), 0));
    const sentTimestamp = Date.now();
    await this.deps.queues.enqueue<StoredMessage>(
      storageName(queueName),
      bodies.map((body) => {
        const messageId = randomUUID();
        return { id: messageId, payload: { messageId, body, sentTimestamp } };
      }),
    );
  }

  /** The ids of the messages waiting in a queue (e.g. what its dead-letter queue holds). */
  messageIds(queueName: string): Set<string> {
    return this.deps.queues.pendingIds(storageName(queueName));
  }

  /** Starts polling a queue for a function, as a Lambda event source mapping does. */
  startEventSource(functionLogicalId: string, source: LocalQueueSource): void {
    const queue = this.queues.get(source.queue);
    if (!queue) throw new Error(`${functionLogicalId}: no queue ${source.queue}`);
    if (!this.deps.runtime.has(functionLogicalId)) throw new Error(`queue ${queue.name}: no function ${functionLogicalId}`);
    const deadLetterQueue = queue.redrive?.deadLetterQueue;
    this.deps.queues.consume<StoredMessage>(storageName(queue.name), (entries) => this.invoke(functionLogicalId, queue, source, entries), {
      batchSize: source.batchSize,
      batchWindowMs: source.maximumBatchingWindowSeconds * 1000,
      concurrency: source.maximumConcurrency,
      // A message whose receive failed comes back once its visibility timeout has passed.
      backoffMs: () => queue.visibilityTimeoutSeconds * 1000,
      maxAttempts: queue.redrive?.maxReceiveCount ?? Infinity,
      ...(deadLetterQueue && { deadLetterQueue: storageName(deadLetterQueue) }),
      onDeadLetter: (entry, error) => {
        this.deps.logger.error('message received too often; moved to the dead-letter queue', {
          queue: queue.name,
          dead_letter_queue: deadLetterQueue,
          message_id: entry.payload.messageId,
          receive_count: entry.attempts + 1,
          error: String(error),
        });
      },
    });
  }

  private async invoke(
    functionLogicalId: string,
    queue: LocalQueue,
    source: LocalQueueSource,
    entries: QueueEntry<StoredMessage>[],
  ): Promise<BatchOutcome> {
    const records = entries.map((entry) => this.record(queue, entry));
    // ReceiveMessage that returned the batch, and the DeleteMessageBatch of what succeeded.
    meter.sqsRequests(2);
    const response = (await this.deps.runtime.invoke(functionLogicalId, { Records: records } satisfies SQSEvent)) as SQSBatchResponse | null | undefined;
    if (!source.reportBatchItemFailures) return;
    const failures = response?.batchItemFailures ?? [];
    if (failures.length === 0) return;
    const keyOf = new Map(entries.map((entry) => [entry.payload.messageId, entry.key]));
    // Lambda treats an identifier it did not send as a failure of the whole batch.
    if (failures.some((failure) => !keyOf.has(failure.itemIdentifier))) {
      throw new BatchItemFailuresError(`${functionLogicalId} reported a batch item failure for a message it was not sent`);
    }
    return {
      failedKeys: failures.map((failure) => keyOf.get(failure.itemIdentifier)!),
      error: new BatchItemFailuresError(`${functionLogicalId} reported the message as a batch item failure`),
    };
  }

  private record(queue: LocalQueue, entry: QueueEntry<StoredMessage>): SQSRecord {
    const { messageId, body, sentTimestamp } = entry.payload;
    return {
      messageId,
      receiptHandle: `${messageId}/${entry.attempts + 1}`,
      body,
      attributes: {
        ApproximateReceiveCount: String(entry.attempts + 1),
        SentTimestamp: String(sentTimestamp),
        SenderId: 'local',
        // Not tracked across receives; the send time is the closest this store knows.
        ApproximateFirstReceiveTimestamp: String(sentTimestamp),
      },
      messageAttributes: {},
      md5OfBody: createHash('md5').update(body).digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: this.deps.region,
    };
  }
}

function storageName(queueName: string): string {
  return `sqs-${queueName}`;
}
