// The one place AWS clients are built. Endpoints come from the SDK's own
// AWS_ENDPOINT_URL[_SERVICE] variables, so the same code talks to AWS, to the local stack
// or to LocalStack/moto without a branch.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RekognitionClient } from '@aws-sdk/client-rekognition';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Every call has a deadline well under its function's timeout (10 s for most, 60 s for the
 * labeler), so one stuck dependency fails a call instead of holding a pooled connection until
 * Lambda kills the function. `requestTimeout` bounds the wait for the response's headers (the
 * SDK only warns about it unless `throwOnRequestTimeout`), `socketTimeout` a body that stops
 * arriving, `connectionTimeout` the connect. DynamoDB and S3 answer in milliseconds: 2 s per
 * attempt, 3 attempts (the SDK's default), stays under 10 s with the backoff.
 */
const quickService = { connectionTimeout: 1_000, requestTimeout: 2_000, socketTimeout: 2_000, throwOnRequestTimeout: true };

function once<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}

export const dynamoDb = once(() =>
  DynamoDBDocumentClient.from(new DynamoDBClient({ requestHandler: quickService }), {
    marshallOptions: { removeUndefinedValues: true },
  }),
);

export const s3 = once(
  () =>
    new S3Client({
      requestHandler: quickService,
      // Virtual-host addressing needs DNS for bucket.localhost; any custom endpoint gets paths.
      forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL),
      // SDK >= 3.729 would otherwise sign a CRC32 of an empty body into presigned PUT URLs,
      // and every real upload would then fail its checksum.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
);

// The SDK retries throttling, 5xx and timeouts once, after its own short backoff (a throttled
// retry waits up to ~1 s): enough for a blip. A longer shortage is the labeling queue's to
// wait out (shared/labeling/retry-policy.ts), without holding a Lambda that waits and bills.
// Each attempt has its deadline (12 s), well under the labeler's 60 s.
export const rekognition = once(
  () =>
    new RekognitionClient({
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 1_000, requestTimeout: 12_000, socketTimeout: 12_000, throwOnRequestTimeout: true },
    }),
);

export const sqs = once(
  () =>
    new SQSClient({
      requestHandler: quickService,
      // The queue URL names the queue; the endpoint stays the one the environment gives
      // (AWS_ENDPOINT_URL_SQS), not the URL's host.
      useQueueUrlAsEndpoint: !(process.env.AWS_ENDPOINT_URL_SQS ?? process.env.AWS_ENDPOINT_URL),
    }),
);
