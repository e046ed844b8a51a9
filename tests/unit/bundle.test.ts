// `sam build` bundles each function with esbuild using Metadata.BuildProperties; the same
// bundling here catches an import that only resolves under tsx (or not at all).
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { loadTestTemplate, projectRoot } from '../support/template.ts';

const template = loadTestTemplate();

describe('each function bundles for Lambda', () => {
  it.each(template.functions.map((fn) => [fn.logicalId, fn.entryPoint] as const))('%s (%s)', async (_id, entryPoint) => {
    const result = await build({
      entryPoints: [`${projectRoot}${entryPoint}`],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'es2022',
      minify: true,
      write: false,
      outdir: '/tmp/bundle-test',
      outExtension: { '.js': '.mjs' },
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const [output] = result.outputFiles;
    expect(output!.text).toMatch(/export\s*\{[^}]*as handler/);
    // The local stack must never be bundled into a function.
    expect(output!.text).not.toContain('dynalite');
  });

  it('keeps the template and this test in step about the build settings', () => {
    const raw = readFileSync(`${projectRoot}template.yaml`, 'utf8');
    expect(raw.match(/BuildMethod: esbuild/g)).toHaveLength(template.functions.length);
    expect(raw).toContain("OutExtension: ['.js=.mjs']");
  });
});
