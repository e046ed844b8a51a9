// The local SQS's SendMessage, as a function that keeps a message in a dead-letter queue itself
// calls it (AWS JSON 1.0): stored at once with its string attributes, answered with the body's
// MD5 (which the SDK checks), listed by `npm run dead-letters`; bad input answered as SQS does.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DurableQueues } from '../durable-queue.ts';
import { LambdaRuntime } from '../lambda-runtime.ts';
import { LocalSqs } from '../sqs.ts';
import { LocalSqsApi } from '../sqs-api.ts';

const QUEUE = 'stack-SendCallbackFailuresQueue';
const QUEUE_URL = `https://sqs.us-east-1.amazonaws.com/000000000000/${QUEUE}`;
const QUEUE_ARN = `arn:aws:sqs:us-east-1:000000000000:${QUEUE}`;
/** The queue whose redrive policy names QUEUE as its dead-letter queue. */
const SOURCE = 'stack-CallbackQueue';
const SOURCE_ARN = `arn:aws:sqs:us-east-1:000000000000:${SOURCE}`;
let directory: string;
let queues: DurableQueues;
let api: LocalSqsApi;
let url: string;
const logged: unknown[] = [];

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'sqs-api-'));
  queues = await DurableQueues.open(directory);
  const sqs = new LocalSqs({
    definitions: [
      { logicalId: 'SendCallbackFailuresQueue', name: QUEUE, arn: QUEUE_ARN, visibilityTimeoutSeconds: 30 },
      { logicalId: 'CallbackQueue', name: SOURCE, arn: SOURCE_ARN, visibilityTimeoutSeconds: 30, redrive: { deadLetterQueue: QUEUE, maxReceiveCount: 5 } },
    ],
    queues,
    runtime: new LambdaRuntime(() => ''),
    region: 'us-east-1',
    logger: { error: (...args) => logged.push(args) },
  });
  api = new LocalSqsApi(sqs, { error: (...args: unknown[]) => logged.push(args) }, new Map());
  url = await api.listen('127.0.0.1');
});
afterAll(async () => {
  await api.close();
  await queues.close();
  rmSync(directory, { recursive: true, force: true });
});

async function listed(queue: string): Promise<{ messageId: string; sentTimestamp: string; attributes: Record<string, string>; body: unknown }[]> {
  return (await fetch(`${url}/_local/queues/${queue}`)).json() as never;
}

async function call(operation: string, input: unknown) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AmazonSQS.${operation}` },
    body: JSON.stringify(input),
  });
  return { status: response.status, queryError: response.headers.get('x-amzn-query-error'), body: (await response.json()) as Record<string, unknown> };
}

describe('the local SQS SendMessage', () => {
  it('stores the message with its attributes and answers its id and the MD5 of its body', async () => {
    const body = JSON.stringify({ detail: { blob_id: 'b' } });
    const answer = await call('SendMessage', {
      QueueUrl: QUEUE_URL,
      MessageBody: body,
      MessageAttributes: { ERROR_CODE: { DataType: 'String', StringValue: 'RetryWindowUsedUp' } },
    });
    expect(answer).toMatchObject({ status: 200, body: { MD5OfMessageBody: createHash('md5').update(body).digest('hex') } });
    const listed = await (await fetch(`${url}/_local/queues/${QUEUE}`)).json();
    expect(listed).toEqual([
      expect.objectContaining({ messageId: answer.body.MessageId, attributes: { ERROR_CODE: 'RetryWindowUsedUp' }, body: { detail: { blob_id: 'b' } } }),
    ]);
  });

  it('answers what SQS answers to a queue it does not have, a missing body and an attribute it cannot keep', async () => {
    expect(await call('SendMessage', { QueueUrl: `${QUEUE_URL}-nope`, MessageBody: 'x' })).toMatchObject({
      status: 400,
      queryError: 'AWS.SimpleQueueService.NonExistentQueue;Sender',
    });
    expect(await call('SendMessage', { QueueUrl: QUEUE_URL })).toMatchObject({ status: 400, body: { __type: 'com.amazonaws.sqs#MissingParameter' } });
    const binary = { QueueUrl: QUEUE_URL, MessageBody: 'x', MessageAttributes: { A: { DataType: 'Binary', BinaryValue: 'AA==' } } };
    expect(await call('SendMessage', binary)).toMatchObject({ status: 400, body: { __type: 'com.amazonaws.sqs#InvalidParameterValue' } });
    expect(await call('DeleteQueue', { QueueUrl: QUEUE_URL })).toMatchObject({ status: 400, body: { __type: 'com.amazonaws.sqs#UnsupportedOperation' } });
    expect(logged).toEqual([]);
  });
});

describe('the local SQS message move task (a dead-letter queue redrive)', () => {
  it('moves the messages to the named queue as new messages, attributes kept, and reports the task', async () => {
    const before = await listed(QUEUE);
    const body = JSON.stringify({ detail: { blob_id: 'moved' } });
    const sent = await call('SendMessage', { QueueUrl: QUEUE_URL, MessageBody: body, MessageAttributes: { ERROR_CODE: { DataType: 'String', StringValue: 'RetryWindowUsedUp' } } });
    const sentAfter = Date.now();

    const started = await call('StartMessageMoveTask', { SourceArn: QUEUE_ARN, DestinationArn: SOURCE_ARN });
    expect(started).toMatchObject({ status: 200, body: { TaskHandle: expect.any(String) } });
    expect(await listed(QUEUE)).toEqual([]);
    const moved = await listed(SOURCE);
    expect(moved.map((message) => message.body)).toEqual([...before.map((message) => message.body), { detail: { blob_id: 'moved' } }]);
    // New messages: new ids, sent by the move (what gives a redriven callback its own retry window).
    const movedIds = moved.map((message) => message.messageId);
    for (const id of [...before.map((message) => message.messageId), sent.body.MessageId]) expect(movedIds).not.toContain(id);
    for (const message of moved) expect(Date.parse(message.sentTimestamp)).toBeGreaterThanOrEqual(sentAfter);
    expect(moved.at(-1)!.attributes).toEqual({ ERROR_CODE: 'RetryWindowUsedUp' });

    expect(await call('ListMessageMoveTasks', { SourceArn: QUEUE_ARN })).toMatchObject({
      status: 200,
      body: { Results: [{ TaskHandle: started.body.TaskHandle, Status: 'COMPLETED', SourceArn: QUEUE_ARN, DestinationArn: SOURCE_ARN, ApproximateNumberOfMessagesMoved: moved.length, ApproximateNumberOfMessagesToMove: moved.length }] },
    });
  });

  it('without a destination leaves a message no redrive policy moved there, and says why', async () => {
    await call('SendMessage', { QueueUrl: QUEUE_URL, MessageBody: 'sent by a function' });
    expect((await call('StartMessageMoveTask', { SourceArn: QUEUE_ARN })).status).toBe(200);
    expect((await listed(QUEUE)).map((message) => message.body)).toEqual(['sent by a function']);
    expect(await call('ListMessageMoveTasks', { SourceArn: QUEUE_ARN })).toMatchObject({
      body: { Results: [{ Status: 'FAILED', ApproximateNumberOfMessagesMoved: 0, ApproximateNumberOfMessagesToMove: 1, FailureReason: expect.stringContaining('DestinationArn') }] },
    });
  });

  it('answers what SQS answers to a source that is not a dead-letter queue, or does not exist', async () => {
    expect(await call('StartMessageMoveTask', { SourceArn: SOURCE_ARN, DestinationArn: QUEUE_ARN })).toMatchObject({
      status: 400,
      body: { __type: 'com.amazonaws.sqs#InvalidParameterValue' },
    });
    expect(await call('StartMessageMoveTask', { SourceArn: `${QUEUE_ARN}-nope` })).toMatchObject({ status: 400, body: { __type: 'com.amazonaws.sqs#ResourceNotFoundException' } });
    expect(await call('StartMessageMoveTask', { SourceArn: QUEUE_ARN, DestinationArn: `${SOURCE_ARN}-nope` })).toMatchObject({
      status: 400,
      body: { __type: 'com.amazonaws.sqs#ResourceNotFoundException' },
    });
    expect(await call('StartMessageMoveTask', {})).toMatchObject({ status: 400, body: { __type: 'com.amazonaws.sqs#MissingParameter' } });
  });
});

describe('a redrive policy, then a move task without a destination', () => {
  it('sends a message its consumer kept failing back to the queue it came from, where it is handled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sqs-redrive-'));
    const store = await DurableQueues.open(dir);
    const work = { name: 'stack-WorkQueue', arn: 'arn:aws:sqs:us-east-1:000000000000:stack-WorkQueue' };
    const dead = { name: 'stack-WorkDeadLetterQueue', arn: 'arn:aws:sqs:us-east-1:000000000000:stack-WorkDeadLetterQueue' };
    let failing = true;
    const handled: string[] = [];
    // A function that fails until it is fixed: the fault a redrive exists for.
    const runtime = {
      has: () => true,
      invoke: async (_id: string, event: { Records: { body: string }[] }) => {
        if (failing) throw new Error('not yet');
        handled.push(...event.Records.map((record) => record.body));
      },
    } as unknown as LambdaRuntime;
    const sqs = new LocalSqs({
      definitions: [
        { logicalId: 'WorkQueue', ...work, visibilityTimeoutSeconds: 0, redrive: { deadLetterQueue: dead.name, maxReceiveCount: 2 } },
        { logicalId: 'WorkDeadLetterQueue', ...dead, visibilityTimeoutSeconds: 30 },
      ],
      queues: store,
      runtime,
      region: 'us-east-1',
      logger: { error: () => {} },
    });
    try {
      sqs.startEventSource('WorkFunction', { queue: work.name, batchSize: 1, maximumBatchingWindowSeconds: 0, reportBatchItemFailures: false, maximumConcurrency: 1 });
      await sqs.send(work.name, ['job']);
      await store.idle();
      expect(sqs.messages(dead.name)).toEqual([expect.objectContaining({ body: 'job', deadLetterSourceQueue: work.name })]);

      failing = false;
      await sqs.startMessageMoveTask(dead.arn);
      await store.idle();
      expect(handled).toEqual(['job']);
      expect(sqs.messages(dead.name)).toEqual([]);
      expect(sqs.listMessageMoveTasks(dead.arn)).toEqual([expect.objectContaining({ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 1 })]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the local SQS GetQueueAttributes', () => {
  it('counts the messages waiting, and those not visible (being handled, or put back for later)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sqs-depth-'));
    const store = await DurableQueues.open(dir);
    const work = { logicalId: 'WorkQueue', name: 'stack-WorkQueue', arn: 'arn:aws:sqs:us-east-1:000000000000:stack-WorkQueue', visibilityTimeoutSeconds: 60 };
    let release = () => {};
    const handling = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    // The first messages are held until released; then each fails, and waits out the visibility timeout.
    const runtime = {
      has: () => true,
      invoke: async () => {
        calls++;
        await handling;
        throw new Error('later');
      },
    } as unknown as LambdaRuntime;
    const sqs = new LocalSqs({ definitions: [work], queues: store, runtime, region: 'us-east-1', logger: { error: () => {} } });
    const sqsApi = new LocalSqsApi(sqs, { error: () => {} }, new Map());
    const endpoint = await sqsApi.listen('127.0.0.1');
    const attributes = async () => {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.GetQueueAttributes' },
        body: JSON.stringify({ QueueUrl: `https://sqs.us-east-1.amazonaws.com/000000000000/${work.name}`, AttributeNames: ['All'] }),
      });
      return ((await response.json()) as { Attributes: Record<string, string> }).Attributes;
    };
    try {
      await sqs.send(work.name, ['a', 'b', 'c']);
      // Lambda's smallest MaximumConcurrency: two messages handled at once.
      sqs.startEventSource('WorkFunction', { queue: work.name, batchSize: 1, maximumBatchingWindowSeconds: 0, reportBatchItemFailures: false, maximumConcurrency: 2 });
      expect(calls).toBe(2);
      expect(await attributes()).toEqual({ ApproximateNumberOfMessages: '1', ApproximateNumberOfMessagesNotVisible: '2', ApproximateNumberOfMessagesDelayed: '0' });
      release();
      await vi.waitFor(() => expect(calls).toBe(3));
      await vi.waitFor(async () => expect(await attributes()).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '3' }));
    } finally {
      await sqsApi.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
