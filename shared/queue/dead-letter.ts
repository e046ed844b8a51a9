// SQS, for a consumer that decides itself when a message has had its chances (a time window
// rather than a receive count, which only the queue's redrive policy could count): the message
// is sent to the dead-letter queue with why, and the consumer then lets the queue delete it.
// Between the two a crash can leave the message in both queues; the next receive sends it
// again: a duplicate dead letter, never a lost one.
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { sqs } from '../aws/sqs.ts';

export async function sendToDeadLetterQueue(queueUrl: string, body: string, why: Record<string, string>): Promise<void> {
  await sqs().send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: body,
      MessageAttributes: Object.fromEntries(Object.entries(why).map(([name, value]) => [name, { DataType: 'String', StringValue: value }])),
    }),
  );
}
