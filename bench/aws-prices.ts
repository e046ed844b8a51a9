// AWS's public on-demand prices in us-east-1, the only place the bench's cost figures get them
// from. Each was read on 2026-12-05 from the source named beside it (through the project's
// stored copies of public pages; AWS's own pricing pages render most tables from templates, so
// where a transcription or guide is cited, the figure it quotes is the one AWS publishes).
// Free tiers are left out: they are per account, not per image. Check before relying on them.

export const PRICES_READ_ON = '2026-12-05';

export const AWS_PRICES_US_EAST_1 = {
  lambda: {
    /** Per request. Source: https://cloudchipr.com/blog/aws-lambda-pricing ("$0.20 per 1M requests"), https://aws.amazon.com/lambda/pricing/ */
    perRequest: 0.2 / 1e6,
    /** Per GB-second, Arm, first 7.5 billion GB-s a month. Source: https://cloudchipr.com/blog/aws-lambda-pricing ("ARM Pricing, First 7.5 Billion GB-seconds per month: $0.0000133334 per GB-second") */
    perGbSecondArm: 0.0000133334,
    /** Per GB-second, x86, first 6 billion GB-s. Same source. */
    perGbSecondX86: 0.0000166667,
  },
  dynamodb: {
    /** On-demand, per write request unit. Source: https://airbyte.com/data-engineering-resources/dynamodb-pricing ("Write Request Units (WRU): $0.625 per million") */
    perWriteUnit: 0.625 / 1e6,
    /** On-demand, per read request unit. Same source ("Read Request Units (RRU): $0.125 per million"). */
    perReadUnit: 0.125 / 1e6,
  },
  eventBridge: {
    /** Custom events, per event (64 KB chunk); AWS service events to the default bus are free. Source: https://cloudburn.io/blog/amazon-eventbridge-pricing ("Event Bus (custom events) Per million events ingested $1.00"), https://blog.awsfundamentals.com/aws-eventbridge-pricing-guide ("Internal AWS Events - free") */
    perCustomEvent: 1.0 / 1e6,
  },
  pipes: {
    /** Per request after filtering (64 KB chunk). Source: https://cloudburn.io/blog/amazon-eventbridge-pricing ("Pipes Per million requests (after filter) $0.40") */
    perRequest: 0.4 / 1e6,
  },
  sqs: {
    /** Standard queue, per request (64 KB chunk), first 100 billion a month. Source: https://cloudburn.io/blog/amazon-sqs-pricing ("Standard $0.40/M (first 100B)") */
    perRequest: 0.4 / 1e6,
  },
  s3: {
    /** S3 Standard PUT, COPY, POST, LIST. Source: https://c3x.dev/blog/s3-request-fees-explained ("PUT, COPY, POST, LIST (Tier 1): $0.005 per 1,000 requests") */
    perPutClassRequest: 0.005 / 1000,
    /** S3 Standard GET, HEAD, SELECT. Same source ("GET, HEAD, SELECT (Tier 2): $0.0004 per 1,000 requests"). DELETE is free. */
    perGetClassRequest: 0.0004 / 1000,
  },
  rekognition: {
    /** DetectLabels (Group 2), first 1 million images a month. Source: https://raw.githubusercontent.com/api-evangelist/amazon-rekognition/refs/heads/main/plans/amazon-rekognition-plans-pricing.yml, transcribing https://aws.amazon.com/rekognition/pricing/ on 2026-10-07 ("Rekognition Image – Group 2 (DetectLabels), first 1 million images: $0.0010 per image") */
    perDetectLabelsImage: 0.001,
  },
  // Not priced here: API Gateway HTTP API requests (POST /blobs, GET polls: the client decides how
  // many), CloudWatch Logs ingestion, storage (DynamoDB GB-months, S3 while an image waits), data
  // transfer. No figure for them was looked up; they are not in the bench's total.
} as const;
