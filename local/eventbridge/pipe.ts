// Local EventBridge Pipe from a DynamoDB stream to an event bus, per template.yaml:
// filter -> enrichment (a function, invoked synchronously with the batch) -> PutEvents.
// Records wait in a durable, ordered queue until the bus has accepted their events, and a
// record is marked published only then, so nothing appended to the log is lost.
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DurableQueues } from '../durable-queue.ts';
import { keysOf, scanItems, type DynamoItem, type StreamInsert } from '../dynamodb.ts';
import type { LambdaRuntime } from '../lambda-runtime.ts';
import type { LocalPipe as PipeDefinition, LocalTable } from '../template.ts';
import type { LocalEventBridge } from './bus.ts';
import { compileEventPattern } from './pattern-matcher.ts';
import { meter } from '../usage.ts';

export interface StreamRecord {
  eventID: string;
  eventName: 'INSERT';
  eventVersion: '1.1';
  eventSource: 'aws:dynamodb';
  awsRegion: string;
  dynamodb: {
    ApproximateCreationDateTime: number;
    Keys: DynamoItem;
    NewImage: DynamoItem;
    SequenceNumber: string;
    SizeBytes: number;
    StreamViewType: string;
  };
  eventSourceARN: string;
}

/**
 * `$.a.b` paths, as Pipes' dynamic target parameters allow; anything else is a literal. AWS
 * reads them from the source record, not from what an enrichment made of it.
 */
export function dynamicValue(value: string, payload: unknown): string {
  if (!value.startsWith('$.')) return value;
  const found = value
    .slice(2)
    .split('.')
    .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), payload);
  if (typeof found !== 'string') throw new Error(`pipe target parameter ${value} did not resolve to a string`);
  return found;
}

function recordId(table: LocalTable, keys: DynamoItem): string {
  return `${table.name}/${JSON.stringify(table.keySchema.map((key) => keys[key.AttributeName]))}`;
}

export class LocalPipe {
  private readonly queue: string;
  private readonly filters;
  private sequence = 0;

  constructor(
    private readonly definition: PipeDefinition,
    private readonly deps: {
      table: LocalTable;
      queues: DurableQueues;
      runtime: LambdaRuntime;
      bus: LocalEventBridge;
      region: string;
    },
  ) {
    this.queue = `pipe-${definition.logicalId}`;
    this.filters = definition.filters.map((filter) => compileEventPattern(filter));
    if (definition.enrichmentFunction && !deps.runtime.has(definition.enrichmentFunction)) {
      throw new Error(`pipe ${definition.logicalId}: no function ${definition.enrichmentFunction}`);
    }
  }

  start(): void {
    const partitionKey = this.deps.table.keySchema.find((key) => key.KeyType === 'HASH')!.AttributeName;
    this.deps.queues.consume<StreamRecord>(this.queue, (entries) => this.deliver(entries.map((e) => e.payload)), {
      batchSize: this.definition.batchSize,
      // One shard: each item's records reach the bus in the order they were written.
      concurrency: this.definition.parallelizationFactor,
      orderingKey: (record) => JSON.stringify(record.dynamodb.Keys[partitionKey]),
    });
  }

  async capture(insert: StreamInsert): Promise<void> {
    await this.deps.queues.enqueue(this.queue, [{ id: recordId(insert.table, insert.keys), payload: this.record(insert) }]);
  }

  /** Re-queues items a crash left between dynalite's write and the capture. */
  async recover(client: DynamoDBClient): Promise<number> {
    const { table, queues } = this.deps;
    const pending = queues.pendingIds(this.queue);
    const missed: { id: string; payload: StreamRecord }[] = [];
    for await (const item of scanItems(client, table)) {
      const keys = keysOf(table, item);
      const id = recordId(table, keys);
      if (pending.has(id) || (await queues.isMarked(this.publishedKey(id)))) continue;
      missed.push({ id, payload: this.record({ table, keys, newImage: item }) });
    }
    await queues.enqueue(this.queue, missed);
    return missed.length;
  }

  private record(insert: StreamInsert): StreamRecord {
    return {
      eventID: randomUUID().replaceAll('-', ''),
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: this.deps.region,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
        Keys: insert.keys,
        NewImage: insert.newImage,
        SequenceNumber: `${Date.now()}${String(++this.sequence).padStart(8, '0')}`,
        SizeBytes: JSON.stringify(insert.newImage).length,
        StreamViewType: insert.table.streamViewType ?? 'NEW_IMAGE',
      },
      eventSourceARN: insert.table.streamArn ?? '',
    };
  }

  private publishedKey(id: string): string {
    return `published/${this.definition.logicalId}/${id}`;
  }

  private async deliver(records: StreamRecord[]): Promise<void> {
    const { runtime, bus, queues, table } = this.deps;
    const selected = records.filter((record) => this.filters.length === 0 || this.filters.some((f) => f.matches(record)));
    if (selected.length > 0) {
      meter.pipeRecords(selected.map((record) => Buffer.byteLength(JSON.stringify(record))));
      // With an enrichment, a batch is one record whenever a target parameter is dynamic (the
      // template reader sees to it), so every event it returns comes from selected[0].
      const enriched = this.definition.enrichmentFunction
        ? await runtime.invoke(this.definition.enrichmentFunction, selected)
        : selected;
      const events = (Array.isArray(enriched) ? enriched : [enriched]).filter(
        (event) => event !== '' && event !== null && !(typeof event === 'object' && Object.keys(event).length === 0),
      );
      const sourceOf = (index: number) => (this.definition.enrichmentFunction ? selected[0] : selected[index]);
      const results = await bus.putEvents(
        events.map((event, index) => ({
          EventBusName: this.definition.targetBus,
          Source: dynamicValue(this.definition.source, sourceOf(index)),
          DetailType: dynamicValue(this.definition.detailType, sourceOf(index)),
          Detail: JSON.stringify(event),
        })),
      );
      const failed = results.find((result) => result.ErrorCode);
      if (failed) throw new Error(`PutEvents refused an event: ${failed.ErrorCode} ${failed.ErrorMessage}`);
    }
    await queues.mark(records.map((record) => this.publishedKey(recordId(table, record.dynamodb.Keys))));
  }
}
