// Runs the functions of template.yaml in this process, as Lambda would run them: the same
// module and export, a Lambda context, the function's timeout, and each invocation in its
// own invocation scope (Lambda's InvokeStore, which Powertools reads) so that concurrent
// invocations do not share log keys.
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { InvokeStore, InvokeStoreBase } from '@aws/lambda-invoke-store';
import type { Context } from 'aws-lambda';
import type { LocalFunction } from './template.ts';
import { meter } from './usage.ts';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export class FunctionTimeoutError extends Error {
  override readonly name = 'FunctionTimeoutError';
}

/** The TypeScript source itself (needs a TypeScript loader: tsx, vitest). */
export function sourceModule(projectRoot: string): (entryPoint: string) => string {
  return (entryPoint) => pathToFileURL(resolve(projectRoot, entryPoint)).href;
}

/** The same file compiled ahead into `compiledRoot` (see local/start.mjs). */
export function compiledModule(compiledRoot: string): (entryPoint: string) => string {
  return (entryPoint) => pathToFileURL(resolve(compiledRoot, entryPoint.replace(/\.ts$/, '.js'))).href;
}

export class LambdaRuntime {
  private readonly handlers = new Map<string, { fn: LocalFunction; handler: Handler }>();
  private readonly invocations = new Map<string, number>();

  /** `moduleOf` says where a function's entry point (as the template names it) is imported from. */
  constructor(private readonly moduleOf: (entryPoint: string) => string) {}

  /** Imports every function's entry point; a missing module or export fails the start. */
  async load(functions: LocalFunction[]): Promise<void> {
    for (const fn of functions) {
      const module = (await import(this.moduleOf(fn.entryPoint))) as Record<string, unknown>;
      const handler = module[fn.exportName];
      if (typeof handler !== 'function') {
        throw new Error(`${fn.logicalId}: ${fn.entryPoint} has no exported function "${fn.exportName}"`);
      }
      this.handlers.set(fn.logicalId, { fn, handler: handler as Handler });
    }
  }

  has(logicalId: string): boolean {
    return this.handlers.has(logicalId);
  }

  /** How often each function was invoked since start (the local stack's own metric). */
  invocationCounts(): Record<string, number> {
    return Object.fromEntries(this.invocations);
  }

  async invoke(logicalId: string, event: unknown): Promise<unknown> {
    const loaded = this.handlers.get(logicalId);
    if (!loaded) throw new Error(`no function ${logicalId}`);
    const { fn, handler } = loaded;
    this.invocations.set(logicalId, (this.invocations.get(logicalId) ?? 0) + 1);
    const requestId = randomUUID();
    const deadline = Date.now() + fn.timeoutSeconds * 1000;
    const context: Context = {
      callbackWaitsForEmptyEventLoop: false,
      functionName: fn.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: fn.arn,
      memoryLimitInMB: String(fn.memorySizeMb),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName: 'local',
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    const store = await InvokeStore.getInstanceAsync();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new FunctionTimeoutError(`${fn.name}: Task timed out after ${fn.timeoutSeconds}.00 seconds`)),
        fn.timeoutSeconds * 1000,
      );
    });
    const started = performance.now();
    try {
      return await Promise.race([
        store.run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: requestId }, () => handler(event, context)),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
      meter.invocation(logicalId, performance.now() - started, fn);
    }
  }
}

/**
 * All functions share this process, so they share one environment: the union of theirs.
 * Two functions that disagree on a variable would behave differently in AWS than here,
 * so that is refused rather than papered over.
 */
export function mergedEnvironment(functions: LocalFunction[]): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const fn of functions) {
    for (const [name, value] of Object.entries(fn.environment)) {
      if (name === 'NODE_OPTIONS') continue; // a process flag, meaningless once we are running
      if (name in merged && merged[name] !== value) {
        throw new Error(`${fn.logicalId} sets ${name}=${value} but another function sets ${merged[name]}`);
      }
      merged[name] = value;
    }
  }
  return merged;
}
