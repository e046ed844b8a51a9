// Prices what the local stack counted (local/usage.ts) with AWS's us-east-1 prices
// (bench/aws-prices.ts): what a deployment pays per 1,000 images besides Rekognition.
import type { Usage } from '../local/usage.ts';
import { AWS_PRICES_US_EAST_1 as P } from './aws-prices.ts';
import { createBlob, upload, waitForAll, type BenchImage } from './blob-client.ts';
import { waitForQuiet, type StackChild } from './stack-child.ts';

/** Each of the bench's images this many times, one at a time. */
const COST_ROUNDS = 2;

export interface CostLine {
  kind: string;
  /** What was counted per image. */
  perImage: string;
  /** US dollars per 1,000 images. */
  usdPer1000: number;
}

export function costLines(usage: Usage, images: number): CostLine[] {
  const per = (count: number) => count / images;
  const lines: CostLine[] = [];
  for (const [logicalId, fn] of Object.entries(usage.lambda)) {
    const gbSeconds = (fn.billedMs / 1000) * (fn.memorySizeMb / 1024);
    const perGbSecond = fn.architecture === 'arm64' ? P.lambda.perGbSecondArm : P.lambda.perGbSecondX86;
    lines.push({
      kind: `Lambda ${logicalId} (${fn.memorySizeMb} MB ${fn.architecture})`,
      perImage: `${per(fn.invocations).toFixed(2)} invocations, ${per(fn.billedMs).toFixed(0)} ms`,
      usdPer1000: 1000 * per(fn.invocations * P.lambda.perRequest + gbSeconds * perGbSecond),
    });
  }
  const { dynamodb: d, eventBridge: e, pipes, sqs, s3 } = usage;
  lines.push(
    {
      kind: 'DynamoDB on-demand',
      perImage: `${per(d.requests).toFixed(1)} requests, ${per(d.writeUnits).toFixed(1)} write units, ${per(d.readUnits).toFixed(1)} read units`,
      usdPer1000: 1000 * per(d.writeUnits * P.dynamodb.perWriteUnit + d.readUnits * P.dynamodb.perReadUnit),
    },
    {
      kind: 'EventBridge custom events',
      perImage: `${per(e.customEvents).toFixed(1)} events (+${per(e.awsServiceEvents).toFixed(1)} free S3 events)`,
      usdPer1000: 1000 * per(e.customEvents * P.eventBridge.perCustomEvent),
    },
    { kind: 'EventBridge Pipes', perImage: `${per(pipes.requests).toFixed(1)} requests`, usdPer1000: 1000 * per(pipes.requests * P.pipes.perRequest) },
    { kind: 'SQS', perImage: `${per(sqs.requests).toFixed(1)} requests`, usdPer1000: 1000 * per(sqs.requests * P.sqs.perRequest) },
    {
      kind: 'S3 requests',
      perImage: `${per(s3.putClass).toFixed(1)} PUT-class, ${per(s3.getClass).toFixed(1)} GET-class, ${per(s3.deletes).toFixed(1)} DELETE (free)`,
      usdPer1000: 1000 * per(s3.putClass * P.s3.perPutClassRequest + s3.getClass * P.s3.perGetClassRequest),
    },
  );
  return lines;
}

export function describeCosts(usage: Usage, images: number): string {
  const lines = costLines(usage, images);
  const total = lines.reduce((sum, line) => sum + line.usdPer1000, 0);
  const usd = (value: number) => `$${value.toFixed(4)}`;
  const width = Math.max(...lines.map((line) => line.kind.length));
  return [
    `what ${images} one-at-a-time images asked of AWS, priced per 1,000 images (us-east-1, bench/aws-prices.ts):`,
    ...lines.map((line) => `  ${line.kind.padEnd(width)}  ${usd(line.usdPer1000).padStart(8)}  (${line.perImage} per image)`),
    `  ${'total besides Rekognition'.padEnd(width)}  ${usd(total).padStart(8)}`,
    `  ${'Rekognition DetectLabels'.padEnd(width)}  ${usd(1000 * P.rekognition.perDetectLabelsImage).padStart(8)}  (first-tier price; the local detector stands in for it)`,
  ].join('\n');
}

/** Starts the stack's usage counts again (`DELETE` the ready line's `usage` URL). */
export async function resetUsage(usageUrl: string | undefined): Promise<void> {
  if (usageUrl) await fetch(usageUrl, { method: 'DELETE' });
}

/** The stack's usage counts since the last reset, or null from a stack without them (BENCH_STACK_ROOT). */
export async function readUsage(usageUrl: string | undefined): Promise<Usage | null> {
  if (!usageUrl) return null;
  const response = await fetch(usageUrl);
  const body = (await response.json()) as Partial<Usage>;
  return response.ok && body.lambda ? (body as Usage) : null;
}

/**
 * One image at a time, as a client that does not poll would send them: POST, PUT, then nothing
 * until the stack is quiet (labeled, projected, called back). Reading the results waits until the
 * counts are taken, so the bill is the pipeline's, not a poller's (a client that polls adds a
 * GET /blobs/{id} invocation and a log read per poll).
 */
export async function measureCosts(stack: StackChild, images: BenchImage[]): Promise<string> {
  const apiUrl = stack.endpoints.api;
  await waitForQuiet(stack.pid);
  // A stack from before the counters left the API's port (BENCH_STACK_ROOT) served them there.
  const usageUrl = stack.endpoints.usage ?? `${apiUrl}/_local/usage`;
  await resetUsage(usageUrl);
  const ids: string[] = [];
  for (let round = 0; round < COST_ROUNDS; round++) {
    for (const image of images) {
      const blob = await createBlob(apiUrl);
      await upload(blob, image);
      ids.push(blob.blob_id);
      await waitForQuiet(stack.pid);
    }
  }
  // The projector waits up to its batching window (1 s) for more events: longer than "quiet".
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await waitForQuiet(stack.pid);
  const usage = await readUsage(usageUrl);
  const ended = await waitForAll(apiUrl, ids, 30_000);
  const completed = [...ended.values()].filter((blob) => blob.invocation_status === 'COMPLETED').length;
  if (!usage) return '[bench] this stack does not count its AWS requests (no usage endpoint in its ready line)';
  return `${describeCosts(usage, ids.length)}\n  (${completed} of ${ids.length} COMPLETED)`;
}
