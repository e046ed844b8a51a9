// The one place AWS clients are built. Endpoints come from the SDK's own
// AWS_ENDPOINT_URL[_SERVICE] variables, so the same code talks to AWS, to the local stack
// or to LocalStack/moto without a branch.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RekognitionClient } from '@aws-sdk/client-rekognition';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

function once<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}

export const dynamoDb = once(() =>
  DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  }),
);

export const s3 = once(
  () =>
    new S3Client({
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
export const rekognition = once(
  () => new RekognitionClient({ maxAttempts: 2, requestHandler: { requestTimeout: 20_000, connectionTimeout: 3_000 } }),
);

export const sqs = once(
  () =>
    new SQSClient({
      // The queue URL names the queue; the endpoint stays the one the environment gives
      // (AWS_ENDPOINT_URL_SQS), not the URL's host.
      useQueueUrlAsEndpoint: !(process.env.AWS_ENDPOINT_URL_SQS ?? process.env.AWS_ENDPOINT_URL),
    }),
);
