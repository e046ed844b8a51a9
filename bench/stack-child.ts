// Starts the stack in a child process as `npm start` does (the same entry point, node flags and
// malloc settings as package.json's start script), but keeps what a benchmark needs and the test
// helper does not expose: the pid (for /proc memory and CPU figures) and the spawn-to-ready time.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const thisCheckout = fileURLToPath(new URL('../', import.meta.url));

export interface StackEndpoints {
  api: string;
  s3: string;
  dynamodb: string;
  eventbridge: string;
  rekognition: string;
  /** The stand-ins' counters (GET /_local/usage on the stack's loopback address); absent from an older stack. */
  usage?: string;
}

export interface StackChild {
  pid: number;
  endpoints: StackEndpoints;
  /** From spawn to the "ready" line on stdout, measured here. */
  spawnToReadyMs: number;
  /** What the stack itself reports in the ready line (from startStack's first line to ready). */
  readyMs: number;
  /** SIGTERM; SIGKILL if the stack has not exited after STOP_GRACE_MS. Resolves how it ended. */
  stop(): Promise<'exited' | 'killed'>;
}

/**
 * SIGTERM while the stack still works off a backlog (here: after the POST /blobs run) may take
 * long to end it: its consumers are still running. A report must end anyway, so the bench kills
 * it after this long.
 */
const STOP_GRACE_MS = 10_000;

/** package.json's start script sets these too; README "Performance" says why. */
const START_NODE_ARGS = ['--heap-growing-percent=30', '--max-semi-space-size=8'];
const START_ENV = { MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '65536' };

interface ReadyLine extends StackEndpoints {
  ready_ms: number;
}

/** `projectRoot` may be another checkout, to compare its stack against this one's (before/after). */
export async function startStackChild(env: Record<string, string>, projectRoot = thisCheckout): Promise<StackChild> {
  const dataDirectory = mkdtempSync(join(tmpdir(), 'image-labeling-bench-'));
  const started = performance.now();
  // BENCH_STACK_NODE_ARGS adds node flags to the stack (e.g. "--cpu-prof --cpu-prof-dir=prof").
  const nodeArgs = (process.env.BENCH_STACK_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...START_NODE_ARGS, ...nodeArgs, 'local/start.mjs'], {
    cwd: projectRoot,
    env: { ...process.env, ...START_ENV, PORT: '0', S3_PORT: '0', DATA_DIR: dataDirectory, POWERTOOLS_LOG_LEVEL: 'INFO', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await readUntilReady(child);
  const spawnToReadyMs = performance.now() - started;
  const { api, s3, dynamodb, eventbridge, rekognition, usage } = ready;
  return {
    pid: child.pid!,
    endpoints: { api, s3, dynamodb, eventbridge, rekognition, ...(usage && { usage }) },
    spawnToReadyMs,
    readyMs: ready.ready_ms,
    stop: async () => {
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<'killed'>((resolve) => (timer = setTimeout(() => resolve('killed'), STOP_GRACE_MS)));
      const ended = await Promise.race([exited.then(() => 'exited' as const), grace]);
      clearTimeout(timer);
      if (ended === 'killed') {
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dataDirectory, { recursive: true, force: true });
      return ended;
    },
  };
}

/**
 * Resolves with the ready line. stdout keeps being drained afterwards (a full pipe would stall
 * the stack's logging and with it the stack), but lines are not kept: they are not measured.
 */
function readUntilReady(child: ChildProcess): Promise<ReadyLine> {
  return new Promise<ReadyLine>((resolve, reject) => {
    let buffered = '';
    let stderr = '';
    let isReady = false;
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.stdout!.on('data', (chunk: Buffer) => {
      if (isReady) return;
      buffered += chunk.toString();
      const line = buffered.split('\n').find((candidate) => candidate.includes('"message":"ready"'));
      if (!line) return;
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed.service !== 'local-stack') return;
      isReady = true;
      buffered = '';
      resolve(parsed as unknown as ReadyLine);
    });
    child.once('exit', (code) => {
      if (!isReady) reject(new Error(`the stack exited (${code}) before it was ready:\n${stderr}`));
    });
  });
}

/** A field of /proc/<pid>/status in kB (VmRSS, VmHWM), as MiB. */
export function procStatusMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

/** utime + stime from a /proc stat file, in clock ticks (1/100 s on Linux). */
function ticksOf(statPath: string): number {
  // The command name (field 2) may contain spaces; fields after it are fixed.
  const stat = readFileSync(statPath, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function cpuTicks(pid: number): number {
  return ticksOf(`/proc/${pid}/stat`);
}

/** CPU time so far of the process's main thread and of all its other threads, ms. */
export function threadCpuMs(pid: number): { main: number; others: number } {
  let others = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    if (task !== String(pid)) others += ticksOf(`/proc/${pid}/task/${task}/stat`) * 10;
  }
  return { main: ticksOf(`/proc/${pid}/task/${pid}/stat`) * 10, others };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the stack has gone quiet (under 10% of a core for two samples in a row), so one
 * phase's leftovers (projections, deliveries) do not bill the next phase. Gives up after `capMs`.
 */
export async function waitForQuiet(pid: number, capMs = 15_000): Promise<void> {
  const deadline = Date.now() + capMs;
  const sampleMs = 250;
  let quietSamples = 0;
  let previous = cpuTicks(pid);
  while (quietSamples < 2 && Date.now() < deadline) {
    await sleep(sampleMs);
    const now = cpuTicks(pid);
    quietSamples = now - previous <= (sampleMs / 10) * 0.1 ? quietSamples + 1 : 0;
    previous = now;
  }
}
