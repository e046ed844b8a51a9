// `sam build` bundles each function with esbuild using Metadata.BuildProperties; the same
// bundling here (scripts/sam-esbuild.ts) catches an import that only resolves under tsx (or not
// at all), and loading the bundle catches one that fails only once bundled. Sizes and import
// times are benchmark figures (bench/bundles.ts), not assertions.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { samEsbuildOptions } from '../../scripts/sam-esbuild.ts';
import { loadTestTemplate, projectRoot } from '../support/template.ts';

const template = loadTestTemplate();
// Inside the checkout, so that anything the template marks External resolves from node_modules;
// not in .local-build/, which a stack starting in a parallel test clears.
const outRoot = join(projectRoot, 'node_modules', '.cache', 'bundle-test');

afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

describe('each function bundles for Lambda and loads', () => {
  it.each(template.functions.map((fn) => [fn.logicalId, fn] as const))('%s', async (logicalId, fn) => {
    const outdir = join(outRoot, logicalId);
    mkdirSync(outdir, { recursive: true });
    // Without the source map: vitest would try to follow it to sources that are not there.
    const result = await build({ ...samEsbuildOptions(fn.buildProperties, projectRoot), sourcemap: false, outdir, write: false });
    expect(result.errors).toEqual([]);
    const code = result.outputFiles.find((file) => file.path.endsWith('.mjs'))!;
    // The local stack must never be bundled into a function.
    expect(code.text).not.toContain('dynalite');
    for (const file of result.outputFiles) writeFileSync(file.path, file.contents);

    const loaded = (await import(pathToFileURL(code.path).href)) as Record<string, unknown>;
    expect(typeof loaded[fn.exportName]).toBe('function');
  });

  it("leaves the sources' text out of every function's source map, as SAM's esbuild would be told", async () => {
    for (const fn of template.functions) expect(samEsbuildOptions(fn.buildProperties, projectRoot)).toMatchObject({ sourcemap: true, sourcesContent: false });
    // A YAML boolean would reach esbuild as Python's `False`, which it refuses: caught here first.
    expect(() => samEsbuildOptions({ Sourcemap: true, SourcesContent: false }, projectRoot)).toThrow(/quoted text 'true' or 'false'/);
  });

  it('keeps the template and this test in step about the build settings', () => {
    const raw = readFileSync(`${projectRoot}template.yaml`, 'utf8');
    expect(raw.match(/BuildMethod: esbuild/g)).toHaveLength(template.functions.length);
    expect(raw).toContain("OutExtension: ['.js=.mjs']");
  });
});
