// The Rekognition client: DetectLabels.
import { RekognitionClient } from '@aws-sdk/client-rekognition';
import { once } from './once.ts';

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
