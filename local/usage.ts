// What the stack's stand-ins were asked to do, counted the way AWS bills it: Lambda invocations
// and their duration, DynamoDB request units, EventBridge events, Pipes, SQS and S3 requests.
// Not an AWS API, and not the API's: `GET /_local/usage` on a port of its own that listens on
// 127.0.0.1 whatever HOST is (the ready line's `usage`) reads it; bench/costs.ts prices it. A
// client of the API cannot read the stack's counters, nor reset them.
// One meter per process, as the stack is one per process.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { guardServer, guardedHandler, sendProblem, type SafetyLogger } from './http-safety.ts';

/** Pipes, SQS and EventBridge bill each 64 KB of a payload as one request or event. */
const CHUNK_BYTES = 64 * 1024;
export const chunksOf = (bytes: number): number => Math.max(1, Math.ceil(bytes / CHUNK_BYTES));

export interface FunctionUsage {
  invocations: number;
  /** Duration rounded up to the millisecond per invocation, as Lambda bills it. */
  billedMs: number;
  memorySizeMb: number;
  architecture: 'arm64' | 'x86_64';
}

export interface Usage {
  lambda: Record<string, FunctionUsage>;
  dynamodb: { requests: number; readUnits: number; writeUnits: number };
  /** Custom events (PutEvents to a custom bus) are billed; AWS service events to the default bus are not. */
  eventBridge: { customEvents: number; awsServiceEvents: number };
  pipes: { requests: number };
  sqs: { requests: number };
  /** S3's request classes: PUT/COPY/POST/LIST; GET/HEAD and the rest; DELETE (free). */
  s3: { putClass: number; getClass: number; deletes: number };
}

function empty(): Usage {
  return {
    lambda: {},
    dynamodb: { requests: 0, readUnits: 0, writeUnits: 0 },
    eventBridge: { customEvents: 0, awsServiceEvents: 0 },
    pipes: { requests: 0 },
    sqs: { requests: 0 },
    s3: { putClass: 0, getClass: 0, deletes: 0 },
  };
}

let usage = empty();

export const meter = {
  invocation(logicalId: string, durationMs: number, fn: { memorySizeMb: number; architecture: 'arm64' | 'x86_64' }): void {
    const entry = (usage.lambda[logicalId] ??= { invocations: 0, billedMs: 0, memorySizeMb: fn.memorySizeMb, architecture: fn.architecture });
    entry.invocations++;
    entry.billedMs += Math.max(1, Math.ceil(durationMs));
  },
  dynamodb(units: { read: number; write: number }): void {
    usage.dynamodb.requests++;
    usage.dynamodb.readUnits += units.read;
    usage.dynamodb.writeUnits += units.write;
  },
  events(bus: string, payloadBytes: number[]): void {
    const custom = bus !== 'default';
    for (const bytes of payloadBytes) {
      if (custom) usage.eventBridge.customEvents += chunksOf(bytes);
      else usage.eventBridge.awsServiceEvents++;
    }
  },
  pipeRecords(payloadBytes: number[]): void {
    for (const bytes of payloadBytes) usage.pipes.requests += chunksOf(bytes);
  },
  sqsRequests(count: number): void {
    usage.sqs.requests += count;
  },
  s3Request(method: string, isBucketListing: boolean): void {
    if (method === 'DELETE') usage.s3.deletes++;
    else if (method === 'PUT' || method === 'POST' || (method === 'GET' && isBucketListing)) usage.s3.putClass++;
    else usage.s3.getClass++;
  },
  snapshot(): Usage {
    return structuredClone(usage);
  },
  reset(): void {
    usage = empty();
  },
};

/** `GET /_local/usage` answers the counts; `DELETE /_local/usage` starts them again. */
function serveUsage(req: IncomingMessage, res: ServerResponse, requestId: string): void {
  req.resume();
  if (req.url !== '/_local/usage') return sendProblem(res, 404, 'This server answers GET and DELETE /_local/usage only.', { requestId });
  if (req.method === 'DELETE') meter.reset();
  else if (req.method !== 'GET') return sendProblem(res, 405, `${req.method} is not supported on /_local/usage; use GET or DELETE.`, { requestId, headers: { allow: 'GET, DELETE' } });
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(meter.snapshot()));
}

/** The meter's own server; `host` is the stack's internal (loopback) address. */
export async function startUsageServer(host: string, logger: SafetyLogger): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(guardedHandler('usage', logger, serveUsage));
  guardServer(server, 'usage', logger);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}/_local/usage`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
