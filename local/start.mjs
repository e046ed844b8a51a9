// `npm start`: compiles the stack, the functions and the detector worker from TypeScript with
// esbuild (~0.2 s), then runs local/main with plain node.
//
// Why not `node --import tsx local/main.ts` (which works, and is what tests and scripts use):
// on Node 20 a TypeScript ESM loader runs in a hooks thread with its own V8 heap for the life of
// the process, and each detector worker would load tsx too. Measured: ~75 MB less RSS at idle.
//
// Each process compiles into its own folder (.local-build/<pid>/), so stacks started side by side
// (tests do) never read a half-written file; folders of processes that are gone are removed.
// Plain JavaScript, so that node can start it without any loader.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const projectRoot = fileURLToPath(new URL('../', import.meta.url));
const buildsFolder = new URL('../.local-build/', import.meta.url);
const outdir = new URL(`${process.pid}/`, buildsFolder);

function isRunning(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

mkdirSync(buildsFolder, { recursive: true });
for (const name of readdirSync(buildsFolder)) {
  const pid = Number(name);
  if (!Number.isInteger(pid) || pid === process.pid || !isRunning(pid)) {
    rmSync(new URL(`${name}/`, buildsFolder), { recursive: true, force: true });
  }
}
process.once('exit', () => rmSync(outdir, { recursive: true, force: true }));

// Every function the template names has its entry point directly in functions/ (a wiring test
// checks it), so compiling that folder covers them all.
const functions = readdirSync(new URL('../functions/', import.meta.url))
  .filter((name) => name.endsWith('.ts'))
  .map((name) => `functions/${name}`);
await build({
  absWorkingDir: projectRoot,
  entryPoints: ['local/main.ts', 'local/rekognition/worker.ts', ...functions],
  outdir: fileURLToPath(outdir),
  outbase: '.',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
// Stack traces then name the TypeScript files and lines.
process.setSourceMapsEnabled(true);
await import(new URL('local/main.js', outdir).href);
