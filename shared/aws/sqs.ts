// The SQS client: for the consumers that put a message back for later (ChangeMessageVisibility)
// or hand it to their dead-letter queue themselves (SendMessage).
import { SQSClient } from '@aws-sdk/client-sqs';
import { once } from './once.ts';
import { quickService } from './timeouts.ts';

export const sqs = once(
  () =>
    new SQSClient({
      requestHandler: quickService,
      // The queue URL names the queue; the endpoint stays the one the environment gives
      // (AWS_ENDPOINT_URL_SQS), not the URL's host.
      useQueueUrlAsEndpoint: !(process.env.AWS_ENDPOINT_URL_SQS ?? process.env.AWS_ENDPOINT_URL),
    }),
);
