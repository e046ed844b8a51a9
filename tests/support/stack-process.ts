// Starts `npm start`'s entry point in a child process, as a user would run it, on free
// ports and a fresh data folder, and hands back a typed client for its API.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import createClient from 'openapi-fetch';
import type { paths } from '../../shared/generated/openapi.ts';
import { projectRoot } from './template.ts';

export interface StackProcess {
  apiUrl: string;
  endpoints: { s3: string; dynamodb: string; eventbridge: string; rekognition: string; sqs: string; usage: string };
  dataDirectory: string;
  api: ReturnType<typeof createClient<paths>>;
  logs: () => Record<string, unknown>[];
  /** SIGKILL: the process gets no chance to flush or clean up. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface StackProcessOptions {
  env?: Record<string, string>;
  /** Reuse a data folder (restart after a kill); a fresh one by default. */
  dataDirectory?: string;
  s3Port?: number;
}

export async function startStackProcess(options: StackProcessOptions = {}): Promise<StackProcess> {
  const dataDirectory = options.dataDirectory ?? mkdtempSync(join(tmpdir(), 'image-labeling-'));
  const child = spawn(process.execPath, ['local/start.mjs'], {
    cwd: projectRoot,
    env: {
      ...process.env,
      PORT: '0',
      S3_PORT: String(options.s3Port ?? 0),
      DATA_DIR: dataDirectory,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const ready = readUntilReady(child, lines);
  const { api: apiUrl, s3, dynamodb, eventbridge, rekognition, sqs, usage } = await ready;

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    apiUrl,
    endpoints: { s3, dynamodb, eventbridge, rekognition, sqs, usage },
    dataDirectory,
    api: createClient<paths>({ baseUrl: apiUrl }),
    logs: () => lines,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      if (!options.dataDirectory) rmSync(dataDirectory, { recursive: true, force: true });
    },
  };
}

function readUntilReady(child: ChildProcess, lines: Record<string, unknown>[]) {
  type ReadyLine = Record<'api' | 's3' | 'dynamodb' | 'eventbridge' | 'rekognition' | 'sqs' | 'usage', string>;
  return new Promise<ReadyLine>((resolve, reject) => {
    let stderr = '';
    // Powertools writes WARN and ERROR lines to stderr, the rest to stdout: read both.
    const collect = (stream: NodeJS.ReadableStream, onText?: (text: string) => void) => {
      let buffered = '';
      stream.on('data', (chunk: Buffer) => {
        onText?.(chunk.toString());
        buffered += chunk.toString();
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          try {
            const parsed = JSON.parse(line) as Record<string, unknown>;
            lines.push(parsed);
            if (parsed.message === 'ready' && parsed.service === 'local-stack') resolve(parsed as unknown as ReadyLine);
          } catch {
            lines.push({ raw: line });
          }
        }
      });
    };
    collect(child.stdout!);
    collect(child.stderr!, (text) => (stderr += text));
    child.once('exit', (code) => reject(new Error(`the stack exited (${code}) before it was ready:\n${stderr}\n${JSON.stringify(lines.slice(-5))}`)));
  });
}

export const localCredentials = { accessKeyId: 'local', secretAccessKey: 'local-secret-key' };

/** Waits until `check` returns something truthy (the read side follows the log within moments). */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result) return result;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Polls GET /blobs/{id} until the status is one of `statuses`. */
export async function waitForStatus(
  stack: StackProcess,
  blobId: string,
  statuses: string[],
  timeoutMs = 30_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { data } = await stack.api.GET('/blobs/{blob_id}', { params: { path: { blob_id: blobId } } });
    if (data && statuses.includes(data.invocation_status)) return data;
    if (Date.now() > deadline) throw new Error(`blob ${blobId} is ${data?.invocation_status}, not ${statuses.join('/')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
