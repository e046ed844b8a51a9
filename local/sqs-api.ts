// The local SQS's API endpoint, speaking SQS's AWS JSON 1.0 protocol (`POST /`,
// `X-Amz-Target: AmazonSQS.<Operation>`), as far as the product calls it:
// ChangeMessageVisibility, SendMessage (string message attributes), GetQueueAttributes (the
// message counts), and a dead-letter queue's redrive (StartMessageMoveTask,
// ListMessageMoveTasks). Non-AWS extras for looking at what failed (npm run dead-letters):
// `GET /_local/queues` (every queue and its depth) and `GET /_local/queues/<name>` (its
// messages, oldest first, left in place).
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { guardServer, guardedHandler, type SafetyLogger } from './http-safety.ts';
import { SqsError, type LocalSqs } from './sqs.ts';

export type SqsApiLogger = SafetyLogger;

export class LocalSqsApi {
  private server: Server | undefined;

  constructor(
    private readonly sqs: LocalSqs,
    private readonly logger: SqsApiLogger,
    /** What sends its failures to each queue, for the listing (e.g. "RedrivePolicy of X"). */
    private readonly failuresOf: Map<string, string[]>,
  ) {}

  async listen(host: string, port = 0): Promise<string> {
    this.server = createServer(
      guardedHandler('sqs', this.logger, (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('error', () => res.destroy());
        req.on('end', () => this.handle(req, Buffer.concat(chunks), res));
      }),
    );
    guardServer(this.server, 'sqs', this.logger);
    await new Promise<void>((resolve) => this.server!.listen(port, host, resolve));
    return `http://${host}:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server!.close(resolve));
  }

  private handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]!;
    try {
      if (req.method === 'GET' && path === '/_local/queues') {
        reply(res, 200, this.sqs.list().map((queue) => ({ ...queue, receivesFailuresOf: this.failuresOf.get(queue.name) ?? [] })), 'application/json');
        return;
      }
      if (req.method === 'GET' && path.startsWith('/_local/queues/')) {
        reply(res, 200, this.sqs.messages(decodeURIComponent(path.slice('/_local/queues/'.length))), 'application/json');
        return;
      }
      const target = String(req.headers['x-amz-target'] ?? '');
      if (req.method === 'POST' && target === 'AmazonSQS.ChangeMessageVisibility') {
        const input = parseVisibilityInput(body);
        this.sqs.changeMessageVisibility(this.sqs.queueOfUrl(input.QueueUrl), input.ReceiptHandle, input.VisibilityTimeout);
        reply(res, 200, {});
        return;
      }
      if (req.method === 'POST' && target === 'AmazonSQS.SendMessage') {
        const input = parseSendInput(body);
        // Answered once the message is stored, as SQS answers once it is durable.
        this.sqs.send(this.sqs.queueOfUrl(input.QueueUrl), [input.MessageBody], input.attributes).then(
          ([messageId]) => reply(res, 200, { MessageId: messageId, MD5OfMessageBody: createHash('md5').update(input.MessageBody).digest('hex') }),
          (error: unknown) => this.fail(res, error),
        );
        return;
      }
      if (req.method === 'POST' && target === 'AmazonSQS.GetQueueAttributes') {
        const { QueueUrl, AttributeNames } = parseJson(body);
        if (typeof QueueUrl !== 'string') throw new SqsError('MissingParameter', 'QueueUrl is required.');
        const all = this.sqs.queueAttributes(this.sqs.queueOfUrl(QueueUrl));
        const names = Array.isArray(AttributeNames) ? AttributeNames.map(String) : [];
        const unknown = names.filter((name) => name !== 'All' && !(name in all));
        if (unknown.length > 0) throw new SqsError('InvalidAttributeName', `The local SQS does not report ${unknown.join(', ')}.`);
        const wanted = names.includes('All') ? all : Object.fromEntries(Object.entries(all).filter(([name]) => names.includes(name)));
        reply(res, 200, Object.keys(wanted).length > 0 ? { Attributes: wanted } : {});
        return;
      }
      if (req.method === 'POST' && target === 'AmazonSQS.StartMessageMoveTask') {
        const { SourceArn, DestinationArn } = parseJson(body);
        if (typeof SourceArn !== 'string') throw new SqsError('MissingParameter', 'SourceArn is required.');
        if (DestinationArn !== undefined && typeof DestinationArn !== 'string') throw new SqsError('InvalidParameterValue', 'DestinationArn must be a string.');
        this.sqs.startMessageMoveTask(SourceArn, DestinationArn).then(
          (TaskHandle) => reply(res, 200, { TaskHandle }),
          (error: unknown) => this.fail(res, error),
        );
        return;
      }
      if (req.method === 'POST' && target === 'AmazonSQS.ListMessageMoveTasks') {
        const { SourceArn, MaxResults } = parseJson(body);
        if (typeof SourceArn !== 'string') throw new SqsError('MissingParameter', 'SourceArn is required.');
        reply(res, 200, { Results: this.sqs.listMessageMoveTasks(SourceArn, typeof MaxResults === 'number' ? MaxResults : undefined) });
        return;
      }
      throw new SqsError('UnsupportedOperation', `${target || `${req.method} ${path}`} is not supported by the local SQS`);
    } catch (error) {
      this.fail(res, error);
    }
  }

  private fail(res: ServerResponse, error: unknown): void {
    const sqsError = error instanceof SqsError ? error : new SqsError('InternalError', 'internal error', 500);
    if (!(error instanceof SqsError)) this.logger.error('SQS request failed', { error: String(error) });
    // JSON 1.0 error shape; the header carries the code older, query-protocol clients expect.
    res.setHeader('x-amzn-query-error', `${sqsError.code};${sqsError.status < 500 ? 'Sender' : 'Receiver'}`);
    reply(res, sqsError.status, { __type: `com.amazonaws.sqs#${sqsError.code}`, message: sqsError.message });
  }
}

function parseJson(body: Buffer): Record<string, unknown> {
  let input: unknown;
  try {
    input = JSON.parse(body.toString('utf8'));
  } catch {
    throw new SqsError('InvalidParameterValue', 'The request body is not JSON.');
  }
  return typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
}

function parseSendInput(body: Buffer): { QueueUrl: string; MessageBody: string; attributes?: Record<string, string> } {
  const { QueueUrl, MessageBody, MessageAttributes } = parseJson(body);
  if (typeof QueueUrl !== 'string' || typeof MessageBody !== 'string' || MessageBody === '') {
    throw new SqsError('MissingParameter', 'QueueUrl and MessageBody are required.');
  }
  if (MessageAttributes === undefined) return { QueueUrl, MessageBody };
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(typeof MessageAttributes === 'object' && MessageAttributes !== null ? MessageAttributes : {})) {
    const { DataType, StringValue } = (value ?? {}) as Record<string, unknown>;
    if (DataType !== 'String' || typeof StringValue !== 'string') {
      throw new SqsError('InvalidParameterValue', `Message attribute ${name}: the local SQS takes String attributes only.`);
    }
    attributes[name] = StringValue;
  }
  return { QueueUrl, MessageBody, attributes };
}

function parseVisibilityInput(body: Buffer): { QueueUrl: string; ReceiptHandle: string; VisibilityTimeout: number } {
  const { QueueUrl, ReceiptHandle, VisibilityTimeout } = parseJson(body);
  if (typeof QueueUrl !== 'string' || typeof ReceiptHandle !== 'string' || typeof VisibilityTimeout !== 'number') {
    throw new SqsError('MissingParameter', 'QueueUrl, ReceiptHandle and VisibilityTimeout are required.');
  }
  return { QueueUrl, ReceiptHandle, VisibilityTimeout };
}

function reply(res: ServerResponse, status: number, body: unknown, contentType = 'application/x-amz-json-1.0'): void {
  res.writeHead(status, { 'content-type': contentType });
  res.end(JSON.stringify(body));
}
