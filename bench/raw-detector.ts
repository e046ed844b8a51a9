// The detector on its own, in this process: the same DetectorPool the stack runs, with the same
// number of workers, fed the same image bytes. This is the ceiling the pipeline is held to.
import { DetectorPool } from '../local/rekognition/pool.ts';
import type { BenchImage } from './blob-client.ts';
import { median } from './report.ts';

export interface RawDetectorResult {
  /** Per-image detect() time (sharp decode + letterbox + worker), one at a time, warm. */
  sequentialMs: number[];
  /** Mean time inside a worker during the sequential run. */
  insideWorkerMs: number;
  burstImages: number;
  burstSeconds: number;
}

/** Every image once through both workers' paths (sharp, JIT) before anything is timed. */
async function warmUp(pool: DetectorPool, images: BenchImage[]): Promise<void> {
  await Promise.all(images.map((image) => pool.detect(image.bytes)));
  for (const image of images) await pool.detect(image.bytes);
}

async function sequential(pool: DetectorPool, images: BenchImage[], rounds: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < rounds * images.length; i += 1) {
    const started = performance.now();
    await pool.detect(images[i % images.length]!.bytes);
    times.push(performance.now() - started);
  }
  return times;
}

async function burst(pool: DetectorPool, images: BenchImage[]): Promise<number> {
  const started = performance.now();
  await Promise.all(images.map((image) => pool.detect(image.bytes)));
  return (performance.now() - started) / 1000;
}

export async function measureRawDetector(
  workers: number,
  sequentialImages: BenchImage[],
  rounds: number,
  burstImages: BenchImage[],
): Promise<RawDetectorResult> {
  // The queue must hold the whole burst: the raw figure is the detector's, not its admission limit's.
  const pool = new DetectorPool({ workers, maxQueue: burstImages.length });
  try {
    await pool.ready();
    await warmUp(pool, sequentialImages);
    const before = pool.stats();
    const sequentialMs = await sequential(pool, sequentialImages, rounds);
    const after = pool.stats();
    const insideWorkerMs =
      ((after.meanInferenceMs ?? 0) * after.inferences - (before.meanInferenceMs ?? 0) * before.inferences) /
      Math.max(1, after.inferences - before.inferences);
    const burstSeconds = await burst(pool, burstImages);
    return { sequentialMs, insideWorkerMs, burstImages: burstImages.length, burstSeconds };
  } finally {
    await pool.close();
  }
}

export function describeRaw(result: RawDetectorResult): string {
  return `raw detector: median ${median(result.sequentialMs).toFixed(0)} ms per image (n=${result.sequentialMs.length}; ` +
    `${result.insideWorkerMs.toFixed(0)} ms of it inside the worker), burst ${result.burstImages} in ${result.burstSeconds.toFixed(1)} s`;
}
