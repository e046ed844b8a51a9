// Local EventBridge schedules (SAM `Schedule` events): rate expressions only. A run that is
// still going when the next is due is skipped rather than doubled up.
import { randomUUID } from 'node:crypto';
import type { LambdaRuntime } from './lambda-runtime.ts';
import type { LocalFunction } from './template.ts';

const units: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

export function rateMilliseconds(expression: string): number {
  const match = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression.trim());
  if (!match) throw new Error(`schedule "${expression}": the local stack runs rate(...) expressions only`);
  return Number(match[1]) * units[match[2]!]!;
}

export function startSchedules(
  functions: LocalFunction[],
  runtime: LambdaRuntime,
  options: { region: string; accountId: string; intervalOverrideMs?: number; onError: (name: string, error: unknown) => void },
): () => void {
  const timers = functions.flatMap((fn) =>
    fn.schedules.map((schedule) => {
      let running = false;
      const every = options.intervalOverrideMs ?? rateMilliseconds(schedule.expression);
      return setInterval(() => {
        if (running) return;
        running = true;
        const event = {
          version: '0',
          id: randomUUID(),
          'detail-type': 'Scheduled Event',
          source: 'aws.events',
          account: options.accountId,
          time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
          region: options.region,
          resources: [`arn:aws:events:${options.region}:${options.accountId}:rule/${schedule.name}`],
          detail: {},
        };
        runtime
          .invoke(fn.logicalId, event)
          .catch((error: unknown) => options.onError(schedule.name, error))
          .finally(() => (running = false));
      }, every);
    }),
  );
  return () => timers.forEach(clearInterval);
}
