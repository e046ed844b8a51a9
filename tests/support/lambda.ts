// What a handler test needs to invoke a function as Lambda would: the samples of events/samples
// (what each function really receives), a Lambda context, and an SQS batch around bodies.
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2, Context, SQSEvent } from 'aws-lambda';

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

/** An SQS event source's batch: each body as a queue delivers it (JSON text), received this often, sent then. */
export function sqsBatch(bodies: readonly unknown[], options: { receiveCount?: number; queue?: string; sentAt?: Date } = {}): SQSEvent {
  return {
    Records: bodies.map((body, index) => ({
      messageId: `message-${index + 1}`,
      receiptHandle: `receipt-${index + 1}`,
      body: typeof body === 'string' ? body : JSON.stringify(body),
      attributes: {
        ApproximateReceiveCount: String(options.receiveCount ?? 1),
        SentTimestamp: String(options.sentAt?.getTime() ?? 1795542501000),
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

/**
 * A request as API Gateway (HTTP API, payload 2.0) hands it to a function, with the API key
 * authorizer's verdict in its context: `owner` for a valid key, null for a refused one.
 */
export function httpRequest(
  method: string,
  path: string,
  options: { owner: string | null; body?: string; contentType?: string; pathParameters?: Record<string, string>; query?: Record<string, string> },
): APIGatewayProxyEventV2 & { requestContext: { authorizer: unknown } } {
  const search = new URLSearchParams(options.query ?? {}).toString();
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: search,
    headers: {
      host: 'api.example.com',
      'x-forwarded-proto': 'https',
      ...(options.body !== undefined && { 'content-type': options.contentType ?? 'application/json' }),
    },
    ...(options.query && { queryStringParameters: options.query }),
    ...(options.pathParameters && { pathParameters: options.pathParameters }),
    ...(options.body !== undefined && { body: options.body }),
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.15', userAgent: 'test' },
      requestId: crypto.randomUUID(),
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: '24/Nov/2026:12:00:00 +0000',
      timeEpoch: 1795521600000,
      authorizer: {
        lambda: options.owner === null ? { authenticated: false } : { authenticated: true, owner: options.owner, key_id: 'k1' },
      },
    },
  };
}
