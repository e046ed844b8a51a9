// What a handler test needs to invoke a function as Lambda would: the samples of events/samples
// (what each function really receives), a Lambda context, and an SQS batch around bodies.
import { readFileSync } from 'node:fs';
import type { Context, SQSEvent } from 'aws-lambda';

/** A file of events/samples, parsed; a fresh copy each time, so a test may change it. */
export function sample<T>(file: string): T {
  return JSON.parse(readFileSync(new URL(`../../events/samples/${file}`, import.meta.url), 'utf8')) as T;
}

export function lambdaContext(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** An SQS event source's batch: each body as a queue delivers it (JSON text), received this often. */
export function sqsBatch(bodies: readonly unknown[], options: { receiveCount?: number; queue?: string } = {}): SQSEvent {
  return {
    Records: bodies.map((body, index) => ({
      messageId: `message-${index + 1}`,
      receiptHandle: `receipt-${index + 1}`,
      body: typeof body === 'string' ? body : JSON.stringify(body),
      attributes: {
        ApproximateReceiveCount: String(options.receiveCount ?? 1),
        SentTimestamp: '1795542501000',
        SenderId: 'AIDAJHIPRHEMV73VRJEBU',
        ApproximateFirstReceiveTimestamp: '1795542501012',
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:${options.queue ?? 'queue'}`,
      awsRegion: 'us-east-1',
    })),
  };
}
