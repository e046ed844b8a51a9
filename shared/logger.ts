// Structured JSON logs (Powertools). Handlers append `blob_id` so every line of an
// invocation can be found by the blob it concerns.
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'image-labeling' });
