/**
 * Measures the local detector on this machine: `npx tsx local/rekognition/bench.ts`.
 * Prints cold start, warm per-image latency on one worker, throughput with N workers, RSS.
 * (A CLI tool, so it prints to stdout; the server itself never does.)
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DetectorPool } from './pool.ts';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../tests/fixtures');
const PHOTOS = ['chelsea.png', 'people.jpg', 'horse.png', 'coffee.png'];

function mib(bytes: number): number {
  return Math.round(bytes / (1024 * 1024));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function startPool(workers: number): Promise<{ pool: DetectorPool; startupMs: number }> {
  const started = performance.now();
  const pool = new DetectorPool({ workers, maxQueue: 1000 });
  await pool.ready();
  return { pool, startupMs: performance.now() - started };
}

async function latency(images: Buffer[], rounds: number): Promise<void> {
  const { pool, startupMs } = await startPool(1);
  const times: number[] = [];
  for (let i = 0; i < rounds * images.length; i += 1) {
    const started = performance.now();
    await pool.detect(images[i % images.length]!);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const inside = pool.stats().meanInferenceMs ?? Number.NaN;
  console.log(`1 worker: cold start ${startupMs.toFixed(0)} ms, RSS ${mib(process.memoryUsage().rss)} MiB`);
  console.log(
    `  warm latency per image (decode + letterbox + model + NMS), n=${times.length}: ` +
      `median ${percentile(times, 50).toFixed(0)} ms, p95 ${percentile(times, 95).toFixed(0)} ms; ` +
      `inside the worker ${inside.toFixed(0)} ms`,
  );
  await pool.close();
}

async function throughput(images: Buffer[], workers: number, total: number): Promise<void> {
  const { pool, startupMs } = await startPool(workers);
  const rssReady = process.memoryUsage().rss;
  // The API server shares the main thread, so check that it stays responsive meanwhile.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const started = performance.now();
  await Promise.all(Array.from({ length: total }, (_, i) => pool.detect(images[i % images.length]!)));
  const seconds = (performance.now() - started) / 1000;
  loopDelay.disable();
  console.log(`${workers} workers: cold start ${startupMs.toFixed(0)} ms, RSS ready ${mib(rssReady)} MiB, after run ${mib(process.memoryUsage().rss)} MiB`);
  const inside = pool.stats().meanInferenceMs ?? Number.NaN;
  console.log(`  throughput: ${total} images in ${seconds.toFixed(1)} s = ${(total / seconds).toFixed(1)} images/s (mean ${inside.toFixed(0)} ms inside a worker)`);
  console.log(`  main-thread event-loop delay meanwhile: p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms, max ${(loopDelay.max / 1e6).toFixed(0)} ms`);
  await pool.close();
}

const images = await Promise.all(PHOTOS.map((name) => readFile(path.join(FIXTURES, name))));
const workers = Number(process.argv[2] ?? 2);
console.log(`baseline RSS ${mib(process.memoryUsage().rss)} MiB`);
await latency(images, 10);
await throughput(images, workers, 80);
