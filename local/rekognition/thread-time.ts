/**
 * The calling thread's scheduler figures from Linux's /proc/thread-self/schedstat: time on a
 * CPU, and time ready to run but waiting for one (the run queue). Together they split a slow
 * inference into "more work" and "waited for a core" (other threads of the process, or other
 * processes). Undefined where the file does not exist (not Linux, or schedstats off).
 */
import { readFileSync } from 'node:fs';

export interface ThreadTime {
  cpuMs: number;
  runQueueMs: number;
}

const SCHEDSTAT = '/proc/thread-self/schedstat';
let available = true;

export function threadTime(): ThreadTime | undefined {
  if (!available) return undefined;
  try {
    const [cpuNs, waitNs] = readFileSync(SCHEDSTAT, 'utf8').split(' ').map(Number);
    if (!Number.isFinite(cpuNs) || !Number.isFinite(waitNs)) throw new Error('unexpected schedstat');
    return { cpuMs: cpuNs! / 1e6, runQueueMs: waitNs! / 1e6 };
  } catch {
    available = false;
    return undefined;
  }
}

/** What the thread spent between two readings; undefined if either is missing. */
export function threadTimeSince(before: ThreadTime | undefined): ThreadTime | undefined {
  const after = threadTime();
  if (!before || !after) return undefined;
  return { cpuMs: after.cpuMs - before.cpuMs, runQueueMs: after.runQueueMs - before.runQueueMs };
}
