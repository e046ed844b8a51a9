// The client package as other projects get it: its types through the package's `exports`
// (Node and browser resolution alike), a browser bundle free of Node modules, and what
// `npm pack` puts in the tarball. The package is built by `npm install` (prepare).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../support/template.ts';

const typesFolder = fileURLToPath(new URL('../types/', import.meta.url));
const packageFolder = `${projectRoot}clients/typescript/`;

const consumers = {
  // A Node project: NodeNext resolution picks the `node` condition.
  node: { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, lib: ['lib.es2022.d.ts'], types: ['node'] },
  // A browser project built by a bundler: no `node` condition, the DOM's fetch and Blob.
  browser: { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], types: [] },
};

const filesOf = { node: ['compiles-node.ts', 'rejects-wrong-field.ts', 'rejects-missing-parameter.ts', 'rejects-unnarrowed-webhook.ts'], browser: ['compiles-browser.ts', 'rejects-browser-path.ts'] };
const programs = new Map<keyof typeof consumers, ts.Program>();

/** Type-checks a file as a consumer project would (one program per kind); answers its errors as `TS<code>: message`. */
function typeErrors(file: string, consumer: keyof typeof consumers): string[] {
  if (!programs.has(consumer)) {
    const roots = filesOf[consumer].map((name) => `${typesFolder}${name}`);
    programs.set(consumer, ts.createProgram(roots, { ...consumers[consumer], strict: true, noEmit: true, skipLibCheck: true }));
  }
  const program = programs.get(consumer)!;
  const source = program.getSourceFile(`${typesFolder}${file}`)!;
  return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map(
    (diagnostic) => `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`,
  );
}

describe('the client types, as a consumer sees them', () => {
  it('compile in a Node project (paths, error classes, webhook payloads narrowed on type)', () => {
    expect(typeErrors('compiles-node.ts', 'node')).toEqual([]);
  });

  it('compile in a browser project (Blobs, AbortSignal)', () => {
    expect(typeErrors('compiles-browser.ts', 'browser')).toEqual([]);
  });

  it.each([
    ['rejects-wrong-field.ts', 'node', 'max_label'],
    ['rejects-missing-parameter.ts', 'node', 'blob_id'],
    ['rejects-browser-path.ts', 'browser', 'string'],
    ['rejects-unnarrowed-webhook.ts', 'node', 'labels'],
  ] as const)('refuse %s', (file, consumer, mentioned) => {
    // The first line of each file names the error it must give.
    const expected = /^\/\/ (TS\d+):/.exec(readFileSync(`${typesFolder}${file}`, 'utf8'))![1]!;
    const errors = typeErrors(file, consumer);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^${expected}: .*${mentioned}`));
  });
});

describe('the browser entry', () => {
  async function bundle(platform: 'browser' | 'node') {
    const result = await build({
      stdin: {
        contents: "import { ImageLabelingClient } from '@image-labeling/client'; console.log(new ImageLabelingClient({ baseUrl: '/api' }));",
        resolveDir: projectRoot,
      },
      bundle: true,
      write: false,
      format: 'esm',
      platform,
      logLevel: 'silent',
    });
    return result.outputFiles[0]!.text;
  }

  it('bundles for browsers without any Node module', async () => {
    expect(await bundle('browser')).not.toMatch(/["']node:/);
    // The Node entry does read files: the browser's cleanliness is the export condition's doing.
    expect(await bundle('node')).toMatch(/from "node:fs\/promises"/);
  });
});

describe('npm pack', () => {
  it('ships the built JavaScript, declarations and README, not the sources', () => {
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: packageFolder, encoding: 'utf8' }),
    ) as [{ name: string; files: { path: string }[] }];
    const files = packed.files.map((file) => file.path);
    expect(packed.name).toBe('@image-labeling/client');
    expect(files).toEqual(
      expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/node.js', 'dist/node.d.ts', 'dist/generated/openapi.d.ts']),
    );
    expect(files.filter((file) => file.startsWith('src/') || file.startsWith('scripts/'))).toEqual([]);
    // Every file the exports map names is in the tarball.
    const manifest = JSON.parse(readFileSync(`${packageFolder}package.json`, 'utf8')) as { exports: unknown };
    const named = JSON.stringify(manifest.exports).match(/\.\/[\w./-]+/g)!.map((path) => path.slice(2));
    expect(files).toEqual(expect.arrayContaining(named));
  });
});
