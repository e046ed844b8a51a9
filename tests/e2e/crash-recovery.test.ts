// kill -9 at any moment loses nothing a client was told had succeeded: the blob created
// stays, and an upload that was answered 200 still gets labeled after a restart.
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startStackProcess, waitForStatus, type StackProcess } from '../support/stack-process.ts';

const horse = readFileSync(new URL('../fixtures/horse.png', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const running: StackProcess[] = [];
afterAll(async () => {
  for (const stack of running) await stack.stop().catch(() => undefined);
});

describe('after kill -9 and a restart on the same data', () => {
  it('keeps created blobs and labels uploads that were answered 200', async () => {
    const s3Port = await freePort();
    const first = await startStackProcess({ s3Port });
    running.push(first);
    const dataDirectory = first.dataDirectory;

    const waiting = (await first.api.POST('/blobs', {})).data!;
    const uploads = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const blob = (await first.api.POST('/blobs', {})).data!;
        const put = await fetch(blob.upload_url!, { method: 'PUT', body: horse, headers: { 'content-type': 'image/png' } });
        expect(put.status).toBe(200);
        return blob;
      }),
    );
    await first.kill(); // right after the last 200, with labeling most likely still under way

    const second = await startStackProcess({ s3Port, dataDirectory });
    running.push(second);
    for (const blob of uploads) {
      const done = await waitForStatus(second, blob.blob_id, ['COMPLETED', 'FAILED']);
      expect(done.invocation_status).toBe('COMPLETED');
      expect(done.labels).toContain('Horse');
    }
    const { data } = await second.api.GET('/blobs/{blob_id}', { params: { path: { blob_id: waiting.blob_id } } });
    expect(data?.invocation_status).toBe('ACTION_REQUIRED');

    // The upload URL handed out before the crash still works after it.
    const put = await fetch(waiting.upload_url!, { method: 'PUT', body: horse, headers: { 'content-type': 'image/png' } });
    expect(put.status).toBe(200);
    expect((await waitForStatus(second, waiting.blob_id, ['COMPLETED'])).labels).toContain('Horse');
    await second.stop();
    rmSync(dataDirectory, { recursive: true, force: true });
  });
});
