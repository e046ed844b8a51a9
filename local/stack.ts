// The one-machine stack: reads template.yaml, starts a stand-in for each AWS service that
// speaks its wire protocol, points the SDK at them through the standard
// AWS_ENDPOINT_URL_* variables, and runs the product's own handlers unchanged.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DurableQueues } from './durable-queue.ts';
import { startDynamoDb, type LocalDynamoDb, type StreamInsert } from './dynamodb.ts';
import { LocalApiGateway } from './api-gateway.ts';
import { RouteGuard } from './route-guard.ts';
import { LocalEventBridge } from './eventbridge/bus.ts';
import { LocalPipe } from './eventbridge/pipe.ts';
import { compiledModule, LambdaRuntime, mergedEnvironment, sourceModule } from './lambda-runtime.ts';
import { stackLogger } from './log.ts';
import { startRekognitionServer } from './rekognition/server.ts';
import { startS3, type ObjectCreated } from './s3/server.ts';
import { startSchedules } from './scheduler.ts';
import { LocalSqs } from './sqs.ts';
import { LocalSqsApi } from './sqs-api.ts';
import { startFaultyRekognition } from './fault-injection.ts';
import { loadTemplate, type LocalTemplate } from './template.ts';
import { startUsageServer } from './usage.ts';

export interface StackOptions {
  projectRoot: string;
  dataDirectory: string;
  host: string;
  /** The API's port; 0 picks a free one. */
  port: number;
  /** The upload URLs' port; it is baked into presigned URLs, so it should stay put across restarts. */
  s3Port: number;
  detectorWorkers: number;
  parameterOverrides?: Record<string, string>;
  /** Runs every schedule this often instead of its rate (rates are minutes at the least). */
  scheduleIntervalMs?: number;
  /**
   * Where local/start.mjs compiled the TypeScript (the source tree mirrored, `.js` for `.ts`).
   * Without it the stack imports the source, which needs a TypeScript loader (tsx, vitest).
   */
  compiledRoot?: string;
}

export interface RunningStack {
  apiUrl: string;
  /** `usage`: GET (or DELETE) the stand-ins' counters (local/usage.ts); loopback only. */
  endpoints: { s3: string; dynamodb: string; eventbridge: string; rekognition: string; sqs: string; usage: string };
  template: LocalTemplate;
  runtime: LambdaRuntime;
  /** Resolves when every queued delivery has been handled (for tests and benchmarks). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const STACK_NAME = 'image-labeling';
const ACCOUNT_ID = '000000000000';
// Only the functions in this process (and tools on this machine) talk to DynamoDB, EventBridge
// and Rekognition, and dynalite checks no signature: they listen on loopback whatever HOST is,
// so that a stack serving other machines does not hand them its tables. Clients need only the
// API and the upload bucket (S3), which listen on HOST.
const INTERNAL_HOST = '127.0.0.1';
// The stand-ins check signatures against these, so the SDK must sign with them.
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local-secret-key' };

export async function startStack(options: StackOptions): Promise<RunningStack> {
  const started = Date.now();
  const logger = stackLogger;
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const template = loadTemplate(join(options.projectRoot, 'template.yaml'), {
    stackName: STACK_NAME,
    region,
    accountId: ACCOUNT_ID,
    ...(options.parameterOverrides && { parameterOverrides: options.parameterOverrides }),
  });
  for (const dir of ['dynamodb', 's3', 'queues']) mkdirSync(join(options.dataDirectory, dir), { recursive: true });

  Object.assign(process.env, {
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    // Lambda's multi-concurrency mode: Powertools then keeps log keys per invocation.
    AWS_LAMBDA_MAX_CONCURRENCY: '64',
    ...mergedEnvironment(template.functions),
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;

  const queues = await DurableQueues.open(join(options.dataDirectory, 'queues'));
  const closers: (() => Promise<void>)[] = [() => queues.close()];
  const pipesByTable = new Map<string, LocalPipe[]>();

  const dynamodb: LocalDynamoDb = await startDynamoDb({
    directory: join(options.dataDirectory, 'dynamodb'),
    host: INTERNAL_HOST,
    tables: template.tables,
    onInsert: async (insert: StreamInsert) => {
      await Promise.all((pipesByTable.get(insert.table.name) ?? []).map((pipe) => pipe.capture(insert)));
    },
  });
  closers.push(() => dynamodb.close());

  // S3 starts before the bus exists (the functions need S3's endpoint first); uploads wait for it.
  const late: { bus?: LocalEventBridge } = {};
  const s3 = await startS3({
    host: options.host,
    port: options.s3Port,
    directory: join(options.dataDirectory, 's3'),
    buckets: template.buckets.map((bucket) => bucket.name),
    cors: Object.fromEntries(template.buckets.map((bucket) => [bucket.name, bucket.corsRules])),
    credentials: LOCAL_CREDENTIALS,
    region,
    onObjectCreated: async (object: ObjectCreated) => {
      const bucket = template.buckets.find((candidate) => candidate.name === object.bucket);
      if (!bucket?.eventBridgeEnabled) return;
      if (!late.bus) throw new Error('the event bus is not running yet');
      await publishObjectCreated(late.bus, object);
    },
  });
  closers.push(() => s3.close());

  const fault = process.env.LOCAL_REKOGNITION_FAULT;
  const rekognition = fault
    ? await startFaultyRekognition(INTERNAL_HOST, fault)
    : await startRekognitionServer({
        host: INTERNAL_HOST,
        port: 0,
        workers: options.detectorWorkers,
        readS3Object: (bucket, key) => s3.readObject(bucket, key),
        ...(process.env.LOCAL_REKOGNITION_TPS && { transactionsPerSecond: Number(process.env.LOCAL_REKOGNITION_TPS) }),
        logger,
        ...(options.compiledRoot && { workerEntry: pathToFileURL(join(options.compiledRoot, 'local/rekognition/worker.js')) }),
      });
  closers.push(() => rekognition.close());

  const runtime = new LambdaRuntime(options.compiledRoot ? compiledModule(options.compiledRoot) : sourceModule(options.projectRoot));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb.url,
    AWS_ENDPOINT_URL_S3: s3.url,
    AWS_ENDPOINT_URL_REKOGNITION: rekognition.url,
  });
  await runtime.load(template.functions);

  const sqs = new LocalSqs({ definitions: template.queues, queues, runtime, region, logger });
  const sqsApi = new LocalSqsApi(sqs, logger, failureQueues(template));
  // Before the pollers start: a function may put a message back (ChangeMessageVisibility) at once.
  process.env.AWS_ENDPOINT_URL_SQS = await sqsApi.listen(INTERNAL_HOST);
  closers.push(() => sqsApi.close());
  for (const fn of template.functions) for (const source of fn.queueSources) sqs.startEventSource(fn.logicalId, source);

  const bus = new LocalEventBridge({
    buses: template.buses,
    rules: template.rules,
    queues,
    runtime,
    sqs,
    asyncInvokeOf: (functionId) => {
      const fn = template.functions.find((candidate) => candidate.logicalId === functionId)!;
      return { ...fn.asyncInvoke, functionArn: fn.arn };
    },
    region,
    accountId: ACCOUNT_ID,
    logger,
  });
  const eventBridgeUrl = await bus.listen(INTERNAL_HOST);
  process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = eventBridgeUrl;
  late.bus = bus;
  closers.push(() => bus.close());

  for (const definition of template.pipes) {
    const table = template.tables.find((candidate) => candidate.name === definition.sourceTable);
    if (!table?.streamViewType) throw new Error(`pipe ${definition.logicalId}: table ${definition.sourceTable} has no stream`);
    const pipe = new LocalPipe(definition, { table, queues, runtime, bus, region });
    pipesByTable.set(table.name, [...(pipesByTable.get(table.name) ?? []), pipe]);
    const recovered = await pipe.recover(dynamodb.client);
    if (recovered > 0) logger.info('re-queued log events a crash left unpublished', { pipe: definition.logicalId, recovered });
    pipe.start();
  }

  const stopSchedules = startSchedules(template.functions, runtime, {
    region,
    accountId: ACCOUNT_ID,
    ...(options.scheduleIntervalMs && { intervalOverrideMs: options.scheduleIntervalMs }),
    onError: (schedule, error) => logger.error('scheduled invocation failed', { schedule, error: String(error) }),
  });
  closers.push(async () => stopSchedules());

  const guard = new RouteGuard(template.httpApi, {
    invoke: (functionId, event) => runtime.invoke(functionId, event),
    logger,
    region,
    accountId: ACCOUNT_ID,
  });
  const gateway = new LocalApiGateway(template.functions, runtime, logger, guard);
  const api = await gateway.listen(options.host, options.port);
  closers.push(() => gateway.close());
  // Absolute links name the API as the stack serves it, unless the user configured another base.
  process.env.PUBLIC_BASE_URL ||= api.url;

  // The stand-ins' counters (local/usage.ts): internal, like DynamoDB, not on the API's port.
  const usage = await startUsageServer(INTERNAL_HOST, logger);
  closers.push(() => usage.close());

  const endpoints = {
    s3: s3.url,
    dynamodb: dynamodb.url,
    eventbridge: eventBridgeUrl,
    rekognition: rekognition.url,
    sqs: process.env.AWS_ENDPOINT_URL_SQS,
    usage: usage.url,
  };
  // For tools that work on a running stack's data (npm run rebuild-projections).
  writeFileSync(
    join(options.dataDirectory, 'stack.json'),
    JSON.stringify({
      api: api.url,
      endpoints,
      region,
      credentials: LOCAL_CREDENTIALS,
      tables: { events: process.env.EVENTS_TABLE, readModel: process.env.READ_MODEL_TABLE, apiKeys: process.env.API_KEYS_TABLE },
      authorizer: template.httpApi.authorizer?.name ?? 'none',
    }),
  );
  logger.info('ready', { api: api.url, ...endpoints, data: resolve(options.dataDirectory), ready_ms: Date.now() - started });
  return {
    apiUrl: api.url,
    endpoints,
    template,
    runtime,
    idle: () => queues.idle(),
    close: async () => {
      for (const close of closers.reverse()) await close();
    },
  };
}

/** For each queue that receives failures, what sends them there (for npm run dead-letters). */
function failureQueues(template: LocalTemplate): Map<string, string[]> {
  const senders = new Map<string, string[]>();
  const add = (queue: string | undefined, what: string) => {
    if (queue) senders.set(queue, [...(senders.get(queue) ?? []), what]);
  };
  for (const queue of template.queues) add(queue.redrive?.deadLetterQueue, `RedrivePolicy of ${queue.logicalId}`);
  for (const rule of template.rules) add(rule.deadLetterQueue, `DeadLetterConfig of rule ${rule.name}`);
  for (const fn of template.functions) add(fn.asyncInvoke.onFailureQueue, `EventInvokeConfig OnFailure of ${fn.logicalId}`);
  return senders;
}

/** What S3 sends to EventBridge for a new object (the "Object Created" event). */
async function publishObjectCreated(bus: LocalEventBridge, object: ObjectCreated): Promise<void> {
  const [result] = await bus.putEvents([
    {
      Source: 'aws.s3',
      DetailType: 'Object Created',
      Resources: [`arn:aws:s3:::${object.bucket}`],
      Time: object.time,
      Detail: JSON.stringify({
        version: '0',
        bucket: { name: object.bucket },
        object: { key: object.key, size: object.size, etag: object.etag, sequencer: Date.now().toString(16) },
        'request-id': object.requestId,
        requester: ACCOUNT_ID,
        'source-ip-address': object.sourceIp ?? '127.0.0.1',
        reason: 'PutObject',
      }),
    },
  ]);
  if (result?.ErrorCode) throw new Error(`could not publish Object Created: ${result.ErrorMessage}`);
}
