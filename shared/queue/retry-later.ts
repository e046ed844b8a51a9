// SQS, as far as the product calls it itself: putting a received message back to be tried
// again after a delay of our choosing, rather than the queue's fixed visibility timeout.
// Lambda leaves a message reported as a batch item failure invisible for whatever timeout it
// has at that moment, and its receive count keeps counting towards the redrive policy.
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import { sqs } from '../aws/sqs.ts';

/** SQS's largest visibility timeout: 12 hours. */
export const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;

export async function retryLater(queueUrl: string, receiptHandle: string, delaySeconds: number): Promise<void> {
  await sqs().send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: queueUrl,
      ReceiptHandle: receiptHandle,
      VisibilityTimeout: Math.min(MAX_VISIBILITY_TIMEOUT_SECONDS, Math.max(1, Math.ceil(delaySeconds))),
    }),
  );
}
