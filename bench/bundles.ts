// Cold start, per function: the bundle `sam build` would make (the template's esbuild settings)
// and how long a fresh Node process takes to import it, median of IMPORT_RUNS processes.
// Run alone with `npx tsx bench/bundles.ts`; `npm run bench` prints the same table first.
// Bundles go to node_modules/.cache/ (inside the checkout, so that a package the template marks
// External resolves from node_modules as it would from the Lambda runtime's own copy; not
// .local-build/, which every starting stack clears).
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { loadTemplate, type LocalFunction } from '../local/template.ts';
import { samEsbuildOptions } from '../scripts/sam-esbuild.ts';
import { median } from './report.ts';

const projectRoot = fileURLToPath(new URL('../', import.meta.url));
const IMPORT_RUNS = 5;
/** Issue 17's target for each function's minified bundle. */
export const BUNDLE_BUDGET_BYTES = 300 * 1024;

export interface BundleFigure {
  logicalId: string;
  /** The .mjs sam would deploy (the source map, deployed beside it, is not loaded unless an error is printed). */
  bytes: number;
  /** Wall time of the import in each fresh process. */
  importMs: number[];
  /** CPU time (user + system) of the same imports: what a busy shared host distorts least. */
  importCpuMs: number[];
}

/** The template's functions, with the parameter the template leaves without a default. */
function templateFunctions(): LocalFunction[] {
  return loadTemplate(`${projectRoot}template.yaml`, {
    stackName: 'image-labeling',
    region: 'us-east-1',
    accountId: '000000000000',
    parameterOverrides: { CallbackSigningSecret: `whsec_${Buffer.alloc(24).toString('base64')}` },
  }).functions;
}

async function bundle(fn: LocalFunction, outdir: string): Promise<string> {
  const result = await build({ ...samEsbuildOptions(fn.buildProperties, projectRoot), outdir, write: false });
  let codePath = '';
  for (const file of result.outputFiles) {
    writeFileSync(file.path, file.contents);
    if (file.path.endsWith('.mjs') || file.path.endsWith('.js')) codePath = file.path;
  }
  return codePath;
}

/**
 * One fresh process: the time from just before `import()` to its end, measured inside the process
 * (process start-up itself is not the bundle's). The template's NODE_OPTIONS (source maps) apply
 * as in Lambda; the function's environment is set, as module scope may read it.
 */
async function importOnce(fn: LocalFunction, codePath: string): Promise<{ wallMs: number; cpuMs: number }> {
  const script =
    `const t=performance.now(),c=process.cpuUsage();await import(${JSON.stringify(pathToFileURL(codePath).href)});` +
    `const u=process.cpuUsage(c);console.log(JSON.stringify({wallMs:performance.now()-t,cpuMs:(u.user+u.system)/1000}))`;
  const { NODE_OPTIONS: nodeOptions = '', ...environment } = fn.environment;
  const { stdout } = await promisify(execFile)(process.execPath, [...nodeOptions.split(' ').filter(Boolean), '--input-type=module', '-e', script], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', ...environment },
  });
  return JSON.parse(stdout) as { wallMs: number; cpuMs: number };
}

export async function measureBundles(): Promise<BundleFigure[]> {
  const root = join(projectRoot, 'node_modules', '.cache', 'bench-bundles');
  rmSync(root, { recursive: true, force: true });
  const figures: BundleFigure[] = [];
  for (const fn of templateFunctions()) {
    const outdir = join(root, fn.logicalId);
    mkdirSync(outdir, { recursive: true });
    const codePath = await bundle(fn, outdir);
    const bytes = statSync(codePath).size;
    const runs = [];
    for (let run = 0; run < IMPORT_RUNS; run++) runs.push(await importOnce(fn, codePath));
    figures.push({ logicalId: fn.logicalId, bytes, importMs: runs.map((r) => r.wallMs), importCpuMs: runs.map((r) => r.cpuMs) });
  }
  return figures;
}

export function describeBundles(figures: BundleFigure[]): string {
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
  const width = Math.max(...figures.map((f) => f.logicalId.length));
  const lines = figures.map((f) => {
    const over = f.bytes > BUNDLE_BUDGET_BYTES ? `  (over the ${kb(BUNDLE_BUDGET_BYTES)} budget)` : '';
    return `  ${f.logicalId.padEnd(width)}  ${kb(f.bytes).padStart(7)}  import median ${median(f.importMs).toFixed(0).padStart(4)} ms (CPU ${median(f.importCpuMs).toFixed(0).padStart(3)} ms)${over}`;
  });
  return [`bundles (template's esbuild settings) and cold import, median of ${IMPORT_RUNS} fresh processes:`, ...lines].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(describeBundles(await measureBundles()));
}
