// SQS as a handler test needs it: a receiver on 127.0.0.1 that answers the calls the product
// makes as SQS does (AWS JSON 1.0) and records them. SendMessage gets a message id and the
// body's MD5 (which the SDK checks), GetQueueAttributes the counts in `backlog`, anything else
// (ChangeMessageVisibility) an empty success.
import { createHash } from 'node:crypto';
import { startReceiver, type Receiver } from './receiver.ts';

/** One call as the SDK sent it: the operation (X-Amz-Target) and its input. */
export interface SqsCall {
  operation: string;
  QueueUrl: string;
  ReceiptHandle?: string;
  VisibilityTimeout?: number;
  MessageBody?: string;
  MessageAttributes?: Record<string, { DataType: string; StringValue: string }>;
  AttributeNames?: string[];
}

export interface FakeSqs extends Receiver {
  /** What GetQueueAttributes reports: messages waiting, and not visible (in flight or delayed). */
  backlog: { waiting: number; notVisible: number };
  calls(): SqsCall[];
}

export async function startFakeSqs(): Promise<FakeSqs> {
  const receiver = await startReceiver((request) => {
    const input = JSON.parse(request.body) as { MessageBody?: string };
    const answer = (body: unknown) => ({ status: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: JSON.stringify(body) });
    switch (request.headers['x-amz-target']) {
      case 'AmazonSQS.SendMessage':
        return answer({ MessageId: 'dead-letter-1', MD5OfMessageBody: createHash('md5').update(input.MessageBody ?? '').digest('hex') });
      case 'AmazonSQS.GetQueueAttributes':
        return answer({
          Attributes: {
            ApproximateNumberOfMessages: String(sqs.backlog.waiting),
            ApproximateNumberOfMessagesNotVisible: String(sqs.backlog.notVisible),
            ApproximateNumberOfMessagesDelayed: '0',
          },
        });
      default:
        return answer({});
    }
  });
  const sqs: FakeSqs = Object.assign(receiver, {
    backlog: { waiting: 0, notVisible: 0 },
    calls: () => receiver.requests.map((request) => ({ operation: String(request.headers['x-amz-target']), ...(JSON.parse(request.body) as Omit<SqsCall, 'operation'>) })),
  });
  return sqs;
}
