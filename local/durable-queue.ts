// What makes the local stack keep AWS's delivery promises: every record a stream, bus or
// S3 notification has accepted sits in LevelDB until its consumer has succeeded, so a
// `kill -9` loses nothing a client was told had happened. Delivery is at least once.
import { ClassicLevel } from 'classic-level';
import { stackLogger } from './log.ts';

export interface QueueLogger {
  error(message: string, fields: Record<string, unknown>): void;
}

export interface QueueEntry<T> {
  key: string;
  id: string;
  payload: T;
  attempts: number;
  notBefore: number;
  /** Epoch ms; absent on entries stored before it was recorded. */
  enqueuedAt?: number;
}

/**
 * What a handler call may return: the keys of the entries that failed on their own (a partial
 * batch response). The others are done; throwing fails the whole batch.
 */
export type BatchOutcome = void | { failedKeys: readonly string[]; error: unknown };

export interface ConsumerOptions<T> {
  /** Entries handed to one handler call at most. */
  batchSize?: number;
  /** Wait up to this long after an entry arrives for a full batch (Lambda's batching window). */
  batchWindowMs?: number;
  /** Handler calls at once. 1 keeps the queue's order (a stream shard); more does not, unless orderingKey. */
  concurrency?: number;
  /**
   * With it, entries of the same key are still handled in queue order, one batch at a time,
   * while other keys go ahead: a stream shard's ParallelizationFactor, ordered per partition key.
   */
  orderingKey?: (payload: T) => string;
  /** Attempts before an entry goes to the dead-letter queue; Infinity retries forever. */
  maxAttempts?: number;
  /** How long a failed entry waits before its next attempt (`attempt` counts from 1). */
  backoffMs?: (attempt: number, entry: QueueEntry<T>) => number;
  onDeadLetter?: (entry: QueueEntry<T>, error: unknown) => void;
  /** Move dead letters to this queue (an SQS redrive); otherwise they are kept aside. */
  deadLetterQueue?: string;
  /**
   * Decides each failure short of maxAttempts: the wait before the next attempt, or
   * 'dead-letter' now (an error no retry can fix, or an entry too old). Default: backoffMs.
   */
  nextAttempt?: (entry: QueueEntry<T>, error: unknown, attempts: number) => number | 'dead-letter';
  /** What the dead-letter queue gets, when its consumer reads another shape (an SQS message). */
  deadLetterAs?: (entry: QueueEntry<T>, error: unknown) => { id: string; payload: unknown };
}

interface Consumer<T> {
  queue: string;
  handler: (entries: QueueEntry<T>[]) => Promise<BatchOutcome>;
  options: Required<Omit<ConsumerOptions<T>, 'deadLetterQueue' | 'orderingKey' | 'nextAttempt' | 'deadLetterAs'>> &
    Pick<ConsumerOptions<T>, 'deadLetterQueue' | 'orderingKey' | 'nextAttempt' | 'deadLetterAs'>;
  inFlight: Set<string>;
  timer?: NodeJS.Timeout | undefined;
}

const defaultBackoff = (attempt: number) => Math.min(30_000, 100 * 2 ** (attempt - 1));

export class DurableQueues {
  private readonly pending = new Map<string, Map<string, QueueEntry<unknown>>>();
  private readonly consumers = new Map<string, Consumer<unknown>>();
  private readonly idleWaiters = new Set<() => void>();
  private lastSequence = 0;
  private closed = false;

  private constructor(
    private readonly db: ClassicLevel<string, string>,
    private readonly logger: QueueLogger,
  ) {}

  static async open(directory: string, logger: QueueLogger = stackLogger): Promise<DurableQueues> {
    const db = new ClassicLevel<string, string>(directory);
    await db.open();
    const queues = new DurableQueues(db, logger);
    for await (const [key, value] of db.iterator({ gt: 'q!', lt: 'q!\xff' })) {
      const entry = JSON.parse(value) as QueueEntry<unknown>;
      queues.queueOf(key.split('!')[1]!).set(key, { ...entry, notBefore: 0 });
    }
    return queues;
  }

  /** Stores the entries durably; resolves only once they would survive a crash. */
  async enqueue<T>(queue: string, items: { id: string; payload: T }[]): Promise<void> {
    if (items.length === 0) return;
    const entries = items.map((item) => ({
      key: `q!${queue}!${this.nextSequence()}`,
      id: item.id,
      payload: item.payload,
      attempts: 0,
      notBefore: 0,
      enqueuedAt: Date.now(),
    }));
    await this.db.batch(entries.map((entry) => ({ type: 'put' as const, key: entry.key, value: JSON.stringify(entry) })));
    const pending = this.queueOf(queue);
    for (const entry of entries) pending.set(entry.key, entry);
    this.pump(queue);
  }

  /** The entries waiting in a queue, oldest first (for looking at, e.g. a dead-letter queue). */
  peek<T>(queue: string): QueueEntry<T>[] {
    return [...this.queueOf(queue).values()].sort((a, b) => (a.key < b.key ? -1 : 1)) as QueueEntry<T>[];
  }

  /**
   * A queue's entries as SQS counts its messages: those a consumer could take now, and those
   * it cannot (being handled, or waiting out a retry delay: a visibility timeout in SQS).
   */
  depth(queue: string, now = Date.now()): { visible: number; notVisible: number } {
    const held = this.consumers.get(queue)?.inFlight ?? new Set<string>();
    let visible = 0;
    let notVisible = 0;
    for (const entry of this.queueOf(queue).values()) {
      if (held.has(entry.key) || entry.notBefore > now) notVisible++;
      else visible++;
    }
    return { visible, notVisible };
  }

  /** Ids waiting in a queue (not yet consumed successfully). */
  pendingIds(queue: string): Set<string> {
    return new Set([...this.queueOf(queue).values()].map((entry) => entry.id));
  }

  consume<T>(queue: string, handler: (entries: QueueEntry<T>[]) => Promise<BatchOutcome>, options: ConsumerOptions<T> = {}): void {
    this.consumers.set(queue, {
      queue,
      handler: handler as (entries: QueueEntry<unknown>[]) => Promise<BatchOutcome>,
      options: {
        batchSize: options.batchSize ?? 1,
        batchWindowMs: options.batchWindowMs ?? 0,
        concurrency: options.concurrency ?? 1,
        maxAttempts: options.maxAttempts ?? Infinity,
        backoffMs: (options.backoffMs ?? defaultBackoff) as (attempt: number, entry: QueueEntry<unknown>) => number,
        onDeadLetter: (options.onDeadLetter ?? (() => {})) as (entry: QueueEntry<unknown>, error: unknown) => void,
        ...(options.deadLetterQueue && { deadLetterQueue: options.deadLetterQueue }),
        ...(options.orderingKey && { orderingKey: options.orderingKey as (payload: unknown) => string }),
        ...(options.nextAttempt && { nextAttempt: options.nextAttempt as ConsumerOptions<unknown>['nextAttempt'] }),
        ...(options.deadLetterAs && { deadLetterAs: options.deadLetterAs as ConsumerOptions<unknown>['deadLetterAs'] }),
      },
      inFlight: new Set(),
    });
    this.pump(queue);
  }

  /**
   * Moves the entries of `from` that no consumer holds now and `destination` gives a place,
   * each as a new entry there (with the id and payload it returns), in one write: a crash
   * leaves each either moved or not. SQS's message move task (a dead-letter queue's redrive).
   */
  async moveAll<T>(from: string, destination: (entry: QueueEntry<T>) => { queue: string; id: string; payload: T } | undefined): Promise<number> {
    const held = this.consumers.get(from)?.inFlight ?? new Set<string>();
    const moves = this.peek<T>(from).flatMap((entry) => {
      const target = held.has(entry.key) ? undefined : destination(entry);
      if (!target) return [];
      const { queue, ...renewed } = target;
      const moved: QueueEntry<T> = { ...renewed, key: `q!${queue}!${this.nextSequence()}`, attempts: 0, notBefore: 0, enqueuedAt: Date.now() };
      return [{ entry, queue, moved }];
    });
    if (moves.length === 0) return 0;
    await this.db.batch(
      moves.flatMap(({ entry, moved }) => [
        { type: 'del' as const, key: entry.key },
        { type: 'put' as const, key: moved.key, value: JSON.stringify(moved) },
      ]),
    );
    const source = this.queueOf(from);
    for (const { entry, queue, moved } of moves) {
      source.delete(entry.key);
      this.queueOf(queue).set(moved.key, moved);
    }
    for (const queue of new Set(moves.map((move) => move.queue))) this.pump(queue);
    return moves.length;
  }

  /** A small durable key-value space beside the queues (e.g. what a pipe has published). */
  async mark(keys: string[]): Promise<void> {
    await this.db.batch(keys.map((key) => ({ type: 'put' as const, key: `kv!${key}`, value: '1' })));
  }

  async isMarked(key: string): Promise<boolean> {
    return (await this.db.get(`kv!${key}`)) !== undefined;
  }

  /** Resolves when every queue with a consumer is empty and nothing is in flight. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.add(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const consumer of this.consumers.values()) clearTimeout(consumer.timer);
    await this.db.close();
  }

  private nextSequence(): string {
    this.lastSequence = Math.max(this.lastSequence + 1, Date.now() * 1000);
    return String(this.lastSequence).padStart(20, '0');
  }

  private queueOf(queue: string): Map<string, QueueEntry<unknown>> {
    let pending = this.pending.get(queue);
    if (!pending) this.pending.set(queue, (pending = new Map()));
    return pending;
  }

  private isIdle(): boolean {
    return [...this.consumers.values()].every(
      (consumer) => consumer.inFlight.size === 0 && this.queueOf(consumer.queue).size === 0,
    );
  }

  /**
   * Runs from timers and from the end of every batch: nothing it throws may escape, or one bad
   * entry would take the process down. The queue is tried again a moment later.
   */
  private pump(queue: string): void {
    try {
      this.pumpOnce(queue);
    } catch (error) {
      this.logger.error('queue delivery loop failed; retrying in a second', { queue, error: String(error) });
      const consumer = this.consumers.get(queue);
      if (consumer && !this.closed) {
        clearTimeout(consumer.timer);
        consumer.timer = setTimeout(() => this.pump(queue), 1000);
      }
    }
  }

  private pumpOnce(queue: string): void {
    const consumer = this.consumers.get(queue);
    if (!consumer || this.closed) return;
    const pending = this.queueOf(queue);
    const { batchSize, batchWindowMs, concurrency, orderingKey } = consumer.options;
    const ordered = concurrency === 1;
    const now = Date.now();
    let nextWake = Infinity;
    while (consumer.inFlight.size < concurrency) {
      const batch: QueueEntry<unknown>[] = [];
      // Keys with an earlier entry in flight or backing off: their later entries wait their turn.
      const blocked = new Set<string>();
      for (const entry of pending.values()) {
        const key = orderingKey?.(entry.payload);
        if (key !== undefined && blocked.has(key)) continue;
        if (consumer.inFlight.has(entry.key)) {
          if (ordered) break;
          if (key !== undefined) blocked.add(key);
          continue;
        }
        if (entry.notBefore > now) {
          nextWake = Math.min(nextWake, entry.notBefore);
          if (ordered) break; // a stream does not skip past a record that is backing off
          if (key !== undefined) blocked.add(key);
          continue;
        }
        batch.push(entry);
        if (batch.length >= batchSize) break;
      }
      if (batch.length === 0) break;
      const windowEnds = (batch[0]!.enqueuedAt ?? 0) + batchWindowMs;
      if (batch.length < batchSize && windowEnds > now) {
        nextWake = Math.min(nextWake, windowEnds);
        break;
      }
      for (const entry of batch) consumer.inFlight.add(entry.key);
      this.run(consumer, batch).catch((error: unknown) => {
        // Only the store itself failing gets here (e.g. closed under a running batch): the
        // entries stay stored and are delivered again after a restart.
        if (!this.closed) this.logger.error('queue bookkeeping failed', { queue, error: String(error) });
      });
    }
    clearTimeout(consumer.timer);
    consumer.timer = Number.isFinite(nextWake)
      ? setTimeout(() => this.pump(queue), Math.max(1, nextWake - now))
      : undefined;
    if (this.isIdle()) this.notifyIdle();
  }

  private async run(consumer: Consumer<unknown>, batch: QueueEntry<unknown>[]): Promise<void> {
    const pending = this.queueOf(consumer.queue);
    try {
      const outcome = await consumer.handler(batch);
      if (this.closed) return;
      const failedKeys = new Set(outcome?.failedKeys);
      const done = batch.filter((entry) => !failedKeys.has(entry.key));
      await this.db.batch(done.map((entry) => ({ type: 'del' as const, key: entry.key })));
      for (const entry of done) pending.delete(entry.key);
      if (failedKeys.size > 0) {
        await this.retryOrDeadLetter(consumer, batch.filter((entry) => failedKeys.has(entry.key)), outcome!.error);
      }
    } catch (error) {
      if (this.closed) return;
      await this.retryOrDeadLetter(consumer, batch, error);
    } finally {
      // Runs even when the bookkeeping above failed, so the entries are tried again.
      for (const entry of batch) consumer.inFlight.delete(entry.key);
      this.pump(consumer.queue);
    }
  }

  private async retryOrDeadLetter(consumer: Consumer<unknown>, batch: QueueEntry<unknown>[], error: unknown) {
    const pending = this.queueOf(consumer.queue);
    for (const entry of batch) {
      const attempts = entry.attempts + 1;
      const delay = attempts >= consumer.options.maxAttempts
        ? 'dead-letter'
        : (consumer.options.nextAttempt?.(entry, error, attempts) ?? consumer.options.backoffMs(attempts, entry));
      if (delay === 'dead-letter') {
        const target = consumer.options.deadLetterQueue;
        // In the dead-letter queue the message starts over, as SQS's redrive moves it.
        const moved = target && {
          ...entry,
          ...consumer.options.deadLetterAs?.(entry, error),
          key: `q!${target}!${this.nextSequence()}`,
          attempts: 0,
          notBefore: 0,
          enqueuedAt: Date.now(),
        };
        await this.db.batch([
          { type: 'del', key: entry.key },
          moved
            ? { type: 'put', key: moved.key, value: JSON.stringify(moved) }
            : { type: 'put', key: `dlq!${entry.key}`, value: JSON.stringify({ ...entry, attempts, error: String(error) }) },
        ]);
        pending.delete(entry.key);
        if (moved) {
          this.queueOf(target).set(moved.key, moved);
          // The dead-letter queue may have a consumer of its own (e.g. one that records the failure).
          this.pump(target);
        }
        try {
          consumer.options.onDeadLetter(entry, error);
        } catch (hookError) {
          this.logger.error('dead-letter hook failed', { queue: consumer.queue, error: String(hookError) });
        }
        continue;
      }
      const retried = { ...entry, attempts, notBefore: Date.now() + delay };
      await this.db.put(entry.key, JSON.stringify(retried));
      pending.set(entry.key, retried);
    }
  }

  private notifyIdle(): void {
    for (const resolve of this.idleWaiters) resolve();
    this.idleWaiters.clear();
  }
}
