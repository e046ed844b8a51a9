// The local SQS's SendMessage, as a function that keeps a message in a dead-letter queue itself
// calls it (AWS JSON 1.0): stored at once with its string attributes, answered with the body's
// MD5 (which the SDK checks), listed by `npm run dead-letters`; bad input answered as SQS does.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DurableQueues } from '../durable-queue.ts';
import { LambdaRuntime } from '../lambda-runtime.ts';
import { LocalSqs } from '../sqs.ts';
import { LocalSqsApi } from '../sqs-api.ts';

const QUEUE = 'stack-SendCallbackFailuresQueue';
const QUEUE_URL = `https://sqs.us-east-1.amazonaws.com/000000000000/${QUEUE}`;
let directory: string;
let queues: DurableQueues;
let api: LocalSqsApi;
let url: string;
const logged: unknown[] = [];

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'sqs-api-'));
  queues = await DurableQueues.open(directory);
  const sqs = new LocalSqs({
    definitions: [{ logicalId: 'SendCallbackFailuresQueue', name: QUEUE, arn: `arn:aws:sqs:us-east-1:000000000000:${QUEUE}`, visibilityTimeoutSeconds: 30 }],
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
