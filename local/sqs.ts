// Local SQS, as far as template.yaml uses it: standard queues that EventBridge rules send to
// and that Lambda polls (event source mappings with a batch size, a batching window, partial
// batch responses and MaximumConcurrency), with a redrive policy to a dead-letter queue, and
// ChangeMessageVisibility for a function that puts a message back for later and SendMessage
// for one that hands a message to a queue itself (local/sqs-api.ts serves both). Messages sit
// in LevelDB (DurableQueues) from the moment they are sent until the function has handled them.
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
  /** String message attributes (e.g. the RULE_ARN and ERROR_CODE EventBridge puts on a dead letter). */
  attributes?: Record<string, string>;
  /** The queue whose redrive policy moved it here: where a move task without a destination returns it. */
  deadLetterSourceQueue?: string;
}

/** A message move task as ListMessageMoveTasks describes it. The local one finishes before it is answered. */
export interface MessageMoveTask {
  TaskHandle: string;
  Status: 'COMPLETED' | 'FAILED';
  SourceArn: string;
  DestinationArn?: string;
  ApproximateNumberOfMessagesMoved: number;
  ApproximateNumberOfMessagesToMove: number;
  StartedTimestamp: number;
  FailureReason?: string;
}

/** A message as the local stack's listing shows it. */
export interface ListedMessage {
  messageId: string;
  sentTimestamp: string;
  receiveCount: number;
  attributes: Record<string, string>;
  /** The queue whose redrive policy moved it here, if one did. */
  deadLetterSourceQueue?: string;
  body: unknown;
}

/** An SQS error as the API answers it (AWS JSON 1.0: `__type` and the query-compatible code). */
export class SqsError extends Error {
  override readonly name = 'SqsError';
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface SqsLogger {
  error(message: string, fields: Record<string, unknown>): void;
}

export class BatchItemFailuresError extends Error {
  override readonly name = 'BatchItemFailuresError';
}

export class LocalSqs {
  private readonly queues: Map<string, LocalQueue>;
  /** Messages a function is handling now, by message id: what ChangeMessageVisibility may change. */
  private readonly inFlight = new Map<string, { queue: string; key: string; receiveCount: number }>();
  /** When a message a function put back (ChangeMessageVisibility) becomes visible again, by entry key. */
  private readonly visibleAt = new Map<string, number>();
  /** Message move tasks by source queue, newest first. */
  private readonly moveTasks = new Map<string, MessageMoveTask[]>();

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

  /** SendMessageBatch's promise: resolves with the messages' ids once they would survive a crash. */
  async send(queueName: string, bodies: string[], attributes?: Record<string, string>): Promise<string[]> {
    if (!this.queues.has(queueName)) throw new Error(`no queue ${queueName}`);
    meter.sqsRequests(bodies.reduce((sum, body) => sum + chunksOf(Buffer.byteLength(body)), 0));
    const sentTimestamp = Date.now();
    const messages = bodies.map((body) => {
      const messageId = randomUUID();
      return { id: messageId, payload: { messageId, body, sentTimestamp, ...(attributes && { attributes }) } };
    });
    await this.deps.queues.enqueue<StoredMessage>(storageName(queueName), messages);
    return messages.map((message) => message.id);
  }

  /**
   * Where a queue's messages are kept, and a message in their stored shape: for a producer that
   * must move an entry into the queue in one write (a dead-letter queue of an EventBridge target).
   */
  storageOf(queueName: string): string {
    if (!this.queues.has(queueName)) throw new Error(`no queue ${queueName}`);
    return storageName(queueName);
  }

  message(body: string, attributes?: Record<string, string>): { id: string; payload: StoredMessage } {
    const messageId = randomUUID();
    return { id: messageId, payload: { messageId, body, sentTimestamp: Date.now(), ...(attributes && { attributes }) } };
  }

  /** The queue a queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>) names. */
  queueOfUrl(queueUrl: string): string {
    const name = queueUrl.split('/').pop() ?? '';
    if (!this.queues.has(name)) throw new SqsError('AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
    return name;
  }

  /**
   * ChangeMessageVisibility: a message a function has received becomes visible again this many
   * seconds from now, whatever the queue's visibility timeout, once the function gives it back.
   */
  changeMessageVisibility(queueName: string, receiptHandle: string, visibilityTimeoutSeconds: number): void {
    if (!Number.isInteger(visibilityTimeoutSeconds) || visibilityTimeoutSeconds < 0 || visibilityTimeoutSeconds > 43_200) {
      throw new SqsError('InvalidParameterValue', `Value ${visibilityTimeoutSeconds} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.`);
    }
    const [messageId, receive] = receiptHandle.split('/');
    const held = this.inFlight.get(messageId ?? '');
    if (!held || held.queue !== queueName || String(held.receiveCount) !== receive) {
      throw new SqsError('MessageNotInflight', 'The message referred to is not in flight.');
    }
    this.visibleAt.set(held.key, Date.now() + visibilityTimeoutSeconds * 1000);
  }

  /** Every queue with the number of messages it holds. */
  list(): { name: string; arn: string; messages: number }[] {
    return [...this.queues.values()].map((queue) => ({ name: queue.name, arn: queue.arn, messages: this.messageIds(queue.name).size }));
  }

  /** The messages waiting in a queue, oldest first, bodies parsed when they are JSON. */
  messages(queueName: string): ListedMessage[] {
    if (!this.queues.has(queueName)) throw new SqsError('AWS.SimpleQueueService.NonExistentQueue', `no queue ${queueName}`);
    return this.deps.queues.peek<StoredMessage>(storageName(queueName)).map((entry) => ({
      messageId: entry.payload.messageId,
      sentTimestamp: new Date(entry.payload.sentTimestamp).toISOString(),
      receiveCount: entry.attempts,
      attributes: entry.payload.attributes ?? {},
      ...(entry.payload.deadLetterSourceQueue && { deadLetterSourceQueue: entry.payload.deadLetterSourceQueue }),
      body: parsedOrText(entry.payload.body),
    }));
  }

  /**
   * StartMessageMoveTask: a dead-letter queue's messages go, as new messages (new id, sent
   * now, never received), to `destinationArn`, or without one each back to the queue whose
   * redrive policy moved it there. SQS runs the task in the background; here it has finished
   * when this resolves, and ListMessageMoveTasks tells how it went.
   */
  async startMessageMoveTask(sourceArn: string, destinationArn?: string): Promise<string> {
    const source = this.queueOfArn(sourceArn, 'SourceArn');
    if (![...this.queues.values()].some((queue) => queue.redrive?.deadLetterQueue === source.name)) {
      throw new SqsError('InvalidParameterValue', 'Source queue must be configured as a Dead Letter Queue.');
    }
    const destination = destinationArn === undefined ? undefined : this.queueOfArn(destinationArn, 'DestinationArn');
    const toMove = this.messageIds(source.name).size;
    const moved = await this.deps.queues.moveAll<StoredMessage>(storageName(source.name), (entry) => {
      const queue = destination?.name ?? entry.payload.deadLetterSourceQueue;
      if (queue === undefined || !this.queues.has(queue)) return undefined;
      const { deadLetterSourceQueue: _from, ...message } = entry.payload;
      const messageId = randomUUID();
      return { queue: storageName(queue), id: messageId, payload: { ...message, messageId, sentTimestamp: Date.now() } };
    });
    const task: MessageMoveTask = {
      TaskHandle: Buffer.from(JSON.stringify({ sourceArn, taskId: randomUUID() })).toString('base64'),
      Status: moved === toMove ? 'COMPLETED' : 'FAILED',
      SourceArn: sourceArn,
      ...(destinationArn !== undefined && { DestinationArn: destinationArn }),
      ApproximateNumberOfMessagesMoved: moved,
      ApproximateNumberOfMessagesToMove: toMove,
      StartedTimestamp: Date.now(),
      ...(moved < toMove && {
        FailureReason: `${toMove - moved} message(s) were not moved: without a DestinationArn only messages a redrive policy moved here can go back (a function sent the others), and a message being received stays`,
      }),
    };
    this.moveTasks.set(source.name, [task, ...(this.moveTasks.get(source.name) ?? [])].slice(0, 10));
    return task.TaskHandle;
  }

  /** ListMessageMoveTasks: the latest tasks (at most 10) whose source is this queue, newest first. */
  listMessageMoveTasks(sourceArn: string, maxResults = 1): MessageMoveTask[] {
    return (this.moveTasks.get(this.queueOfArn(sourceArn, 'SourceArn').name) ?? []).slice(0, Math.min(10, Math.max(1, maxResults)));
  }

  private queueOfArn(arn: string, parameter: string): LocalQueue {
    const queue = [...this.queues.values()].find((candidate) => candidate.arn === arn);
    if (!queue) throw new SqsError('ResourceNotFoundException', `The resource that you specified for the ${parameter} parameter doesn't exist.`);
    return queue;
  }

  /** GetQueueAttributes' message counts (the only attributes the product reads). */
  queueAttributes(queueName: string): Record<string, string> {
    const { visible, notVisible } = this.deps.queues.depth(storageName(queueName));
    return {
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(notVisible),
      // Nothing here is sent with a DelaySeconds.
      ApproximateNumberOfMessagesDelayed: '0',
    };
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
      // A message whose receive failed comes back once its visibility timeout has passed, or
      // when the function said it should (ChangeMessageVisibility).
      backoffMs: (_attempt, entry) => {
        const visibleAt = this.visibleAt.get(entry.key);
        this.visibleAt.delete(entry.key);
        return visibleAt === undefined ? queue.visibilityTimeoutSeconds * 1000 : Math.max(0, visibleAt - Date.now());
      },
      maxAttempts: queue.redrive?.maxReceiveCount ?? Infinity,
      ...(deadLetterQueue && { deadLetterQueue: storageName(deadLetterQueue) }),
      deadLetterAs: (entry) => ({ id: entry.id, payload: { ...entry.payload, deadLetterSourceQueue: queue.name } }),
      onDeadLetter: (entry, error) => {
        this.visibleAt.delete(entry.key);
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
    for (const entry of entries) this.inFlight.set(entry.payload.messageId, { queue: queue.name, key: entry.key, receiveCount: entry.attempts + 1 });
    let response: SQSBatchResponse | null | undefined;
    try {
      response = (await this.deps.runtime.invoke(functionLogicalId, { Records: records } satisfies SQSEvent)) as SQSBatchResponse | null | undefined;
    } finally {
      for (const entry of entries) this.inFlight.delete(entry.payload.messageId);
    }
    const failures = source.reportBatchItemFailures ? (response?.batchItemFailures ?? []) : [];
    const failed = new Set(failures.map((failure) => failure.itemIdentifier));
    // Deleted messages will not come back: what they were told about their visibility is moot.
    for (const entry of entries) if (!failed.has(entry.payload.messageId)) this.visibleAt.delete(entry.key);
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
    const { messageId, body, sentTimestamp, attributes } = entry.payload;
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
      messageAttributes: Object.fromEntries(
        Object.entries(attributes ?? {}).map(([name, value]) => [name, { dataType: 'String', stringValue: value, stringListValues: [], binaryListValues: [] }]),
      ),
      md5OfBody: createHash('md5').update(body).digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: this.deps.region,
    };
  }
}

function parsedOrText(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

function storageName(queueName: string): string {
  return `sqs-${queueName}`;
}
