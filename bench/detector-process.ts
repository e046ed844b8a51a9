// The detector alone, in a process of its own: the reference the pipeline's latency is held to.
// bench/raw-detector.ts forks this file; it runs the same DetectorPool the stack runs (same
// worker count), with nothing else in the process, and answers over the IPC channel. Times are
// taken here, around pool.detect(), so the IPC hop is not counted.
import { DetectorPool, type DetectorPoolTotals } from '../local/rekognition/pool.ts';
import type { DetectorChildReply, DetectorChildRequest } from './raw-detector.ts';

const workers = Number(process.env.DETECTOR_WORKERS ?? 2);
const maxQueue = Number(process.env.DETECTOR_MAX_QUEUE ?? 1000);
const pool = new DetectorPool({ workers, maxQueue });

function send(reply: DetectorChildReply): void {
  process.send!(reply);
}

const totals = (): DetectorPoolTotals => pool.stats().totals;

async function handle(request: DetectorChildRequest): Promise<DetectorChildReply> {
  switch (request.type) {
    case 'detect': {
      const started = performance.now();
      await pool.detect(request.image);
      return { type: 'detected', id: request.id, ms: performance.now() - started, totals: totals() };
    }
    case 'burst': {
      const started = performance.now();
      await Promise.all(request.images.map((image) => pool.detect(image)));
      return { type: 'burst', id: request.id, seconds: (performance.now() - started) / 1000, totals: totals() };
    }
  }
}

process.on('message', (request: DetectorChildRequest) => {
  handle(request).then(send, (error: unknown) =>
    send({ type: 'failed', id: request.id, message: error instanceof Error ? error.message : String(error) }),
  );
});
process.on('disconnect', () => void pool.close().then(() => process.exit(0)));

try {
  await pool.ready();
  send({ type: 'ready', pid: process.pid });
} catch (error) {
  console.error(error);
  process.exit(1);
}
