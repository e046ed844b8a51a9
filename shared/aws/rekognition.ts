// The Rekognition client: DetectLabels.
import { RekognitionClient } from '@aws-sdk/client-rekognition';
import { once } from './once.ts';

// Throttling, 5xx and timeouts are retried with the SDK's exponential backoff (4 attempts)
// before a labeling is recorded as LABELING_FAILED.
export const rekognition = once(
  () => new RekognitionClient({ maxAttempts: 4, requestHandler: { requestTimeout: 20_000, connectionTimeout: 3_000 } }),
);
