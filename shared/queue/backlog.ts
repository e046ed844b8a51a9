// How many messages a queue holds: waiting, delayed, and being handled (SQS counts all three
// separately, each an approximation). The labeler reads it when Rekognition throttles, to
// spread the throttled images over the time the backlog takes to drain.
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { sqs } from '../aws/sqs.ts';

export async function queueBacklog(queueUrl: string): Promise<number> {
  const { Attributes: attributes = {} } = await sqs().send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return (
    Number(attributes.ApproximateNumberOfMessages ?? 0) +
    Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}
