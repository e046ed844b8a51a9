// The image-labeling CLI as a user runs it: the built file package.json's `bin` names, with plain
// node, against a started stack. Exit codes: 0 all COMPLETED, 1 a failure, 2 a usage error.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStackProcess, type StackProcess } from '../support/stack-process.ts';
import { projectRoot } from '../support/template.ts';

const bin = join(projectRoot, (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin['image-labeling']!);
const fixture = (name: string) => join(projectRoot, 'tests/fixtures', name);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, cwd: folder }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

let stack: StackProcess;
let folder: string;
let api: Record<string, string>;
beforeAll(async () => {
  stack = await startStackProcess();
  api = { IMAGE_LABELING_API: stack.apiUrl };
  folder = mkdtempSync(join(tmpdir(), 'image-labeling-cli-'));
  copyFileSync(fixture('chelsea.png'), join(folder, 'chelsea.png'));
  writeFileSync(join(folder, 'notes.txt'), 'not an image at all');
  writeFileSync(join(folder, '.DS_Store'), 'left out: a dot-file');
});
afterAll(async () => {
  await stack?.stop();
  rmSync(folder, { recursive: true, force: true });
});

describe('label', () => {
  it('labels a folder: a table of each file, exit 1 because one is no image (its code shown)', async () => {
    const run = await cli(['label', folder], api);
    expect(run.code).toBe(1);
    const rows = run.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^FILE +STATUS +LABELS$/);
    expect(rows).toHaveLength(3);
    expect(rows[1]).toMatch(new RegExp(`^${join(folder, 'chelsea.png')} +COMPLETED +Cat \\d+\\.\\d%`));
    expect(rows[2]).toMatch(new RegExp(`^${join(folder, 'notes.txt')} +FAILED INVALID_IMAGE_FORMAT +\\S`));
    expect(run.stderr).toBe(''); // no progress bar when stderr is not a terminal
  });

  it('prints the final blobs as JSON with --json, and exits 0 when every file is COMPLETED', async () => {
    const run = await cli(['label', fixture('horse.png'), fixture('chelsea.png'), '--json', '--max-labels', '2', '--concurrency', '2'], api);
    expect(run.code).toBe(0);
    const blobs = JSON.parse(run.stdout) as { file: string; blob_id: string; invocation_status: string; labels: string[]; max_labels: number }[];
    expect(blobs.map((blob) => [blob.file, blob.invocation_status, blob.max_labels])).toEqual([
      [fixture('horse.png'), 'COMPLETED', 2],
      [fixture('chelsea.png'), 'COMPLETED', 2],
    ]);
    expect(blobs[0]!.labels).toContain('Horse');

    const [horse] = blobs;
    const got = await cli(['get', horse!.blob_id], api);
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(new RegExp(`^blob_id: +${horse!.blob_id}\nstatus: +COMPLETED\n`));
    expect(got.stdout).toMatch(/^labels: +Horse \d+\.\d%/m);

    const events = await cli(['events', horse!.blob_id], api);
    expect(events.code).toBe(0);
    expect(events.stdout.trim().split('\n').map((line) => line.split(/ +/).slice(0, 2).join(' '))).toEqual([
      'VERSION TYPE',
      '1 BlobCreated',
      '2 BlobUploaded',
      '3 BlobLabeled',
    ]);

    // The list follows the log within moments.
    let listed: { items: { blob_id: string }[] } = { items: [] };
    for (let attempt = 0; attempt < 100 && !listed.items.some((item) => item.blob_id === horse!.blob_id); attempt++) {
      const run = await cli(['list', '--label', 'Horse', '--status', 'COMPLETED', '--json'], api);
      expect(run.code).toBe(0);
      listed = JSON.parse(run.stdout) as typeof listed;
    }
    expect(listed.items.map((item) => item.blob_id)).toContain(horse!.blob_id);
    const table = await cli(['list', '--label', 'Horse'], api);
    expect(table.stdout).toMatch(new RegExp(`^${horse!.blob_id} +COMPLETED +\\S+ +Horse`, 'm'));
  });
});

describe('errors', () => {
  it.each([
    [['label'], /missing required argument 'paths'/],
    [['label', 'no-such-file.png'], /no such file or folder: no-such-file\.png/],
    [['label', '.', '--max-labels', '0'], /--max-labels.*from 1 to 100/],
    [['label', '.', '--concurrency', 'many'], /--concurrency.*whole number/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['get'], /missing required argument 'blob_id'/],
    [['get', 'not-a-blob-id'], /400 Bad Request/],
  ])('exits 2 on a usage error: %j', async (args, message) => {
    const run = await cli(args, api);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('says in one line that the API cannot be reached (exit 1, no stack trace)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const run = await cli(['label', fixture('horse.png'), '--api', url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`image-labeling: cannot reach ${url}: connect ECONNREFUSED ${url.slice(7)} (is the API running? set --api or IMAGE_LABELING_API)\n`);
  });

  it('says in one line that the key was refused (401), having sent it as a bearer token', async () => {
    // The stack does not ask for keys (yet): a receiver on 127.0.0.1 answers as an API that does.
    const seen: IncomingHttpHeaders[] = [];
    const refusing: Server = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(401, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'The API key is not valid.' }));
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
      const run = await cli(['list'], { IMAGE_LABELING_API: url, IMAGE_LABELING_API_KEY: 'wrong-key' });
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        'image-labeling: the API answered 401 Unauthorized: The API key is not valid. (check --api-key or IMAGE_LABELING_API_KEY)\n',
      );
      expect(seen[0]?.authorization).toBe('Bearer wrong-key');
    } finally {
      await new Promise((resolve) => refusing.close(resolve));
    }
  });
});
