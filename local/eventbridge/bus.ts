// Local EventBridge: the buses and rules of template.yaml. PutEvents matches each event
// against every rule on its bus and durably queues one delivery per matching target
// before answering, as EventBridge does; deliveries are retried per the rule's
// RetryPolicy, then dead-lettered. It also speaks the PutEvents wire protocol (AWS JSON
// 1.1), so any SDK client can publish to it.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DurableQueues } from '../durable-queue.ts';
import type { LambdaRuntime } from '../lambda-runtime.ts';
import type { LocalSqs } from '../sqs.ts';
import type { LocalRule } from '../template.ts';
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

export interface BusLogger {
  error(message: string, fields: Record<string, unknown>): void;
}

export class LocalEventBridge {
  private readonly rules: CompiledRule[];
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
    },
  ) {
    this.rules = options.rules.map((rule) => {
      if (!options.buses.includes(rule.busName)) throw new Error(`rule ${rule.name}: no event bus ${rule.busName}`);
      if ('function' in rule.target && !options.runtime.has(rule.target.function)) {
        throw new Error(`rule ${rule.name}: no function ${rule.target.function}`);
      }
      if ('queue' in rule.target && !options.sqs?.has(rule.target.queue)) throw new Error(`rule ${rule.name}: no queue ${rule.target.queue}`);
      return { ...rule, compiled: compileEventPattern(rule.pattern) };
    });
    for (const rule of this.rules) if ('function' in rule.target) this.consumeDeliveries(rule);
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
        deliveries.push({
          queue: deliveryQueue(rule),
          item: { id: `${event.id}/${rule.name}`, payload: { rule: rule.name, target: rule.target.function, event } },
        });
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
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        const reply = (status: number, body: unknown) => {
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify(body));
        };
        const target = String(req.headers['x-amz-target'] ?? '');
        if (target !== 'AWSEvents.PutEvents') {
          reply(400, { __type: 'UnknownOperationException', message: `${target} is not supported locally` });
          return;
        }
        try {
          const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Entries?: PutEventsEntry[] };
          const entries = await this.putEvents(input.Entries ?? []);
          reply(200, { FailedEntryCount: entries.filter((e) => e.ErrorCode).length, Entries: entries });
        } catch (error) {
          reply(400, { __type: 'ValidationException', message: String(error) });
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, host, resolve));
    return `http://${host}:${(this.server.address() as AddressInfo).port}`;
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

  private consumeDeliveries(rule: LocalRule): void {
    this.options.queues.consume<Delivery>(
      deliveryQueue(rule),
      async ([entry]) => {
        await this.options.runtime.invoke(entry!.payload.target, entry!.payload.event);
      },
      {
        concurrency: this.options.targetConcurrency ?? 8,
        maxAttempts: rule.maximumRetryAttempts + 1,
        onDeadLetter: (entry, error) =>
          this.options.logger.error('delivery failed for good; dead-lettered', {
            rule: rule.name,
            event_id: entry.payload.event.id,
            detail_type: entry.payload.event['detail-type'],
            error: String(error),
          }),
      },
    );
  }
}

function deliveryQueue(rule: LocalRule): string {
  return `rule-${rule.name}`;
}
