// Local EventBridge: the buses and rules of template.yaml. PutEvents matches each event
// against every rule on its bus and durably queues one delivery per matching target
// before answering, as EventBridge does. A function target is invoked asynchronously, as
// Lambda does it: a failed invocation is retried per the function's EventInvokeConfig (twice
// by default), then its destination record goes to the OnFailure queue, or it is dropped,
// loudly. It also speaks the PutEvents wire protocol (AWS JSON 1.1), so any SDK client can
// publish to it.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DurableQueues } from '../durable-queue.ts';
import { guardServer, guardedHandler, type SafetyLogger } from '../http-safety.ts';
import type { LambdaRuntime } from '../lambda-runtime.ts';
import type { LocalSqs } from '../sqs.ts';
import type { AsyncInvokeConfig, LocalRule } from '../template.ts';
import { ApiDestinationError, ApiDestinationTarget } from './api-destination.ts';
import { compileEventPattern, type CompiledPattern } from './pattern-matcher.ts';
import { meter } from '../usage.ts';

export interface EventEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
}

export interface PutEventsEntry {
  EventBusName?: string;
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Resources?: string[];
  Time?: string | Date;
}

interface Delivery {
  rule: string;
  target: string;
  event: EventEnvelope;
}

interface CompiledRule extends LocalRule {
  compiled: CompiledPattern;
}

export type BusLogger = SafetyLogger;

const defaultBackoff = (attempt: number) => Math.min(30_000, 100 * 2 ** (attempt - 1));

/** How Lambda treats a function's asynchronous invocations, and the function's ARN. */
export type AsyncInvokeTarget = AsyncInvokeConfig & { functionArn: string };

/**
 * Lambda retries a failed asynchronous invocation about 1 and then 2 minutes later; the local
 * stack keeps the count and shortens the waits to seconds, so a failure shows at once.
 */
const ASYNC_RETRY_DELAY_MS = 1000;

/** Lambda's record of an asynchronous invocation, as it sends it to an on-failure destination. */
export interface InvocationRecord {
  version: '1.0';
  timestamp: string;
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: 'RetriesExhausted' | 'EventAgeExceeded';
    approximateInvokeCount: number;
  };
  requestPayload: unknown;
  responseContext?: { statusCode: number; executedVersion: string; functionError: 'Unhandled' };
  responsePayload?: { errorType?: string; errorMessage: string; trace?: string[] };
}

export class LocalEventBridge {
  private readonly rules: CompiledRule[];
  private readonly apiDestinations = new Map<string, ApiDestinationTarget>();
  private server: Server | undefined;

  constructor(
    private readonly options: {
      buses: string[];
      rules: LocalRule[];
      queues: DurableQueues;
      runtime: LambdaRuntime;
      /** Where rules with an SQS queue target send. */
      sqs?: LocalSqs;
      region: string;
      accountId: string;
      logger: BusLogger;
      /** Invocations of one target at once (Lambda's concurrency for async invokes). */
      targetConcurrency?: number;
      /** A function's EventInvokeConfig; without it, Lambda's defaults and no destination. */
      asyncInvokeOf?: (functionId: string) => AsyncInvokeTarget;
    },
  ) {
    this.rules = options.rules.map((rule) => {
      if (!options.buses.includes(rule.busName)) throw new Error(`rule ${rule.name}: no event bus ${rule.busName}`);
      if ('function' in rule.target && !options.runtime.has(rule.target.function)) {
        throw new Error(`rule ${rule.name}: no function ${rule.target.function}`);
      }
      if ('queue' in rule.target && !options.sqs?.has(rule.target.queue)) throw new Error(`rule ${rule.name}: no queue ${rule.target.queue}`);
      // Handing an event to a function or a queue of this process does not fail, so this queue
      // stays empty for them locally (an API destination's failures do land in it); a wrong name
      // still fails the start, as a deploy would.
      if (rule.deadLetterQueue && !options.sqs?.has(rule.deadLetterQueue)) throw new Error(`rule ${rule.name}: no dead-letter queue ${rule.deadLetterQueue}`);
      if ('apiDestination' in rule.target && !this.apiDestinations.has(rule.target.apiDestination.name)) {
        this.apiDestinations.set(rule.target.apiDestination.name, new ApiDestinationTarget(rule.target.apiDestination));
      }
      const onFailure = 'function' in rule.target ? this.asyncInvoke(rule.target.function).onFailureQueue : undefined;
      if (onFailure && !options.sqs?.has(onFailure)) throw new Error(`rule ${rule.name}: its function has no on-failure queue ${onFailure}`);
      return { ...rule, compiled: compileEventPattern(rule.pattern) };
    });
    for (const rule of this.rules) if (!('queue' in rule.target)) this.consumeDeliveries(rule);
  }

  /** The PutEvents semantics: validate, envelope, match, durably queue deliveries. */
  async putEvents(entries: PutEventsEntry[]): Promise<{ EventId?: string; ErrorCode?: string; ErrorMessage?: string }[]> {
    const results: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[] = [];
    const deliveries: { queue: string; item: { id: string; payload: Delivery } }[] = [];
    const messages = new Map<string, string[]>();
    for (const entry of entries) {
      const busName = (entry.EventBusName ?? 'default').split('/').pop()!;
      const problem = this.invalidEntry(entry, busName);
      if (problem) {
        results.push(problem);
        continue;
      }
      const event = this.envelope(entry);
      meter.events(busName, [Buffer.byteLength(JSON.stringify(entry))]);
      for (const rule of this.rules) {
        if (rule.busName !== busName || !rule.compiled.matches(event)) continue;
        if ('queue' in rule.target) {
          // An SQS target is durable itself: the message is the delivery.
          messages.set(rule.target.queue, [...(messages.get(rule.target.queue) ?? []), JSON.stringify(event)]);
          continue;
        }
        const target = 'function' in rule.target ? rule.target.function : rule.target.apiDestination.name;
        deliveries.push({ queue: deliveryQueue(rule), item: { id: `${event.id}/${rule.name}`, payload: { rule: rule.name, target, event } } });
      }
      results.push({ EventId: event.id });
    }
    const byQueue = new Map<string, { id: string; payload: Delivery }[]>();
    for (const { queue, item } of deliveries) byQueue.set(queue, [...(byQueue.get(queue) ?? []), item]);
    await Promise.all([
      ...[...byQueue].map(([queue, items]) => this.options.queues.enqueue(queue, items)),
      ...[...messages].map(([queue, bodies]) => this.options.sqs!.send(queue, bodies)),
    ]);
    return results;
  }

  async listen(host: string, port = 0): Promise<string> {
    this.server = createServer(guardedHandler('eventbridge', this.options.logger, (req, res) => this.handle(req, res)));
    guardServer(this.server, 'eventbridge', this.options.logger);
    await new Promise<void>((resolve) => this.server!.listen(port, host, resolve));
    return `http://${host}:${(this.server.address() as AddressInfo).port}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(body));
    };
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target !== 'AWSEvents.PutEvents') {
      reply(400, { __type: 'UnknownOperationException', message: `${target} is not supported locally` });
      return;
    }
    let input: { Entries?: PutEventsEntry[] };
    try {
      input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Entries?: PutEventsEntry[] };
      if (typeof input !== 'object' || input === null || (input.Entries !== undefined && !Array.isArray(input.Entries))) {
        throw new Error('Entries must be a list');
      }
    } catch (error) {
      reply(400, { __type: 'ValidationException', message: String(error) });
      return;
    }
    // A failure to queue is ours, not the caller's: the guard answers it 500, and the SDK retries.
    const entries = await this.putEvents(input.Entries ?? []);
    reply(200, { FailedEntryCount: entries.filter((e) => e.ErrorCode).length, Entries: entries });
  }

  async close(): Promise<void> {
    if (this.server) await new Promise((resolve) => this.server!.close(resolve));
  }

  private invalidEntry(entry: PutEventsEntry, busName: string) {
    if (!this.options.buses.includes(busName)) {
      return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${busName} does not exist.` };
    }
    if (!entry.Source || !entry.DetailType || entry.Detail === undefined) {
      return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Source, DetailType and Detail are required.' };
    }
    try {
      const detail: unknown = JSON.parse(entry.Detail);
      if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) throw new Error('not an object');
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    return undefined;
  }

  private envelope(entry: PutEventsEntry): EventEnvelope {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType!,
      source: entry.Source!,
      account: this.options.accountId,
      time: new Date(entry.Time ?? Date.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.options.region,
      resources: entry.Resources ?? [],
      detail: JSON.parse(entry.Detail!) as unknown,
    };
  }

  private asyncInvoke(functionId: string): AsyncInvokeTarget {
    return this.options.asyncInvokeOf?.(functionId) ?? { maximumRetryAttempts: 2, maximumEventAgeSeconds: 21_600, functionArn: functionId };
  }

  /** Lambda's asynchronous invocation of a rule's function: retries, event age, on-failure destination. */
  private consumeDeliveries(rule: LocalRule): void {
    if ('apiDestination' in rule.target) return this.consumeApiDestinationDeliveries(rule);
    const functionId = (rule.target as { function: string }).function;
    const config = this.asyncInvoke(functionId);
    const attempts = config.maximumRetryAttempts + 1;
    this.options.queues.consume<Delivery>(
      deliveryQueue(rule),
      async ([entry]) => {
        const { event } = entry!.payload;
        const invokeCount = entry!.attempts + 1;
        if (Date.now() - (entry!.enqueuedAt ?? Date.now()) > config.maximumEventAgeSeconds * 1000) {
          await this.failed(rule, config, event, { condition: 'EventAgeExceeded', invokeCount: entry!.attempts });
          return;
        }
        try {
          await this.options.runtime.invoke(functionId, event);
        } catch (error) {
          if (invokeCount < attempts) throw error;
          await this.failed(rule, config, event, { condition: 'RetriesExhausted', invokeCount, error });
        }
      },
      {
        concurrency: this.options.targetConcurrency ?? 8,
        backoffMs: (attempt) => attempt * ASYNC_RETRY_DELAY_MS,
      },
    );
  }

  /** EventBridge's own delivery to an API destination: its retry policy, event age and dead-letter queue. */
  private consumeApiDestinationDeliveries(rule: LocalRule): void {
    if (!('apiDestination' in rule.target)) return;
    const destination = this.apiDestinations.get(rule.target.apiDestination.name)!;
    const { sqs } = this.options;
    const deadLetterQueue = rule.deadLetterQueue;
    this.options.queues.consume<Delivery>(
      deliveryQueue(rule),
      async ([entry]) => {
        await destination.invoke(entry!.payload.event);
      },
      {
        concurrency: this.options.targetConcurrency ?? 8,
        maxAttempts: rule.maximumRetryAttempts + 1,
        // EventBridge's backoff, shortened for one machine; an error no retry can fix (a 4xx
        // an API destination does not retry) and an event past MaximumEventAgeInSeconds go
        // to the dead-letter queue at once. A Retry-After is waited out.
        nextAttempt: (entry, error, attempts) => {
          if (error instanceof ApiDestinationError && !error.retryable) return 'dead-letter';
          const delay = Math.max(defaultBackoff(attempts), error instanceof ApiDestinationError ? (error.retryAfterMs ?? 0) : 0);
          const age = Date.now() + delay - Date.parse(entry.payload.event.time);
          return age > rule.maximumEventAgeSeconds * 1000 ? 'dead-letter' : delay;
        },
        ...(deadLetterQueue && sqs && {
          deadLetterQueue: sqs.storageOf(deadLetterQueue),
          // The event as the message body, with the attributes EventBridge puts on a dead letter.
          deadLetterAs: (entry: { payload: Delivery }, error: unknown) =>
            sqs.message(JSON.stringify(entry.payload.event), {
              RULE_ARN: `arn:aws:events:${this.options.region}:${this.options.accountId}:rule/${rule.busName}/${rule.name}`,
              TARGET_ARN: destination.arn,
              ERROR_CODE: error instanceof ApiDestinationError ? error.code : 'INVOCATION_ERROR',
              ERROR_MESSAGE: error instanceof Error ? error.message : String(error),
            }),
        }),
        onDeadLetter: (entry, error) =>
          this.options.logger.error('delivery failed for good; dead-lettered', {
            rule: rule.name,
            event_id: entry.payload.event.id,
            detail_type: entry.payload.event['detail-type'],
            blob_id: blobIdOf(entry.payload.event),
            attempts: entry.attempts + 1,
            ...(deadLetterQueue && { dead_letter_queue: deadLetterQueue }),
            error: String(error),
          }),
      },
    );
  }

  /** Where Lambda puts an invocation it gives up on: its OnFailure queue, or nowhere (dropped). */
  private async failed(
    rule: LocalRule,
    config: AsyncInvokeTarget,
    event: EventEnvelope,
    outcome: { condition: InvocationRecord['requestContext']['condition']; invokeCount: number; error?: unknown },
  ): Promise<void> {
    const fields = { rule: rule.name, event_id: event.id, detail_type: event['detail-type'], condition: outcome.condition, error: String(outcome.error) };
    if (!config.onFailureQueue) {
      this.options.logger.error('asynchronous invocation failed for good; dropped (the function has no on-failure destination)', fields);
      return;
    }
    await this.options.sqs!.send(config.onFailureQueue, [JSON.stringify(invocationRecord(config.functionArn, event, outcome))]);
    this.options.logger.error('asynchronous invocation failed for good; kept in its on-failure queue', { ...fields, queue: config.onFailureQueue });
  }
}

function invocationRecord(
  functionArn: string,
  event: EventEnvelope,
  outcome: { condition: InvocationRecord['requestContext']['condition']; invokeCount: number; error?: unknown },
): InvocationRecord {
  const record: InvocationRecord = {
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: { requestId: randomUUID(), functionArn: `${functionArn}:$LATEST`, condition: outcome.condition, approximateInvokeCount: outcome.invokeCount },
    requestPayload: event,
  };
  if (outcome.condition === 'EventAgeExceeded') return record;
  const { error } = outcome;
  return {
    ...record,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    // What the Node.js runtime returns for an unhandled error.
    responsePayload:
      error instanceof Error
        ? { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n') }
        : { errorMessage: String(error) },
  };
}

function blobIdOf(event: EventEnvelope): string | undefined {
  const detail = event.detail as { blob_id?: unknown } | null;
  return typeof detail?.blob_id === 'string' ? detail.blob_id : undefined;
}

function deliveryQueue(rule: LocalRule): string {
  return `rule-${rule.name}`;
}
