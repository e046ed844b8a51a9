// Compiles the CLI (TypeScript) into one plain-JavaScript file that `node` runs as it is, as a
// published package's bin would be. Its libraries (the client package, commander, ...) stay
// imports, resolved from node_modules at run time. Run by `npm run build` (and so by `npm install`).
import { chmodSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const outfile = fileURLToPath(new URL('dist/image-labeling.js', import.meta.url));
await build({
  entryPoints: [fileURLToPath(new URL('main.ts', import.meta.url))],
  outfile,
  bundle: true,
  packages: 'external',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
