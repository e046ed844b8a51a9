// `sam build` installs the root's `dependencies` only (`npm install --production` in a copy of
// the project, see local/README.md "What sam build installs"). A function that imports a package
// declared elsewhere (a devDependency, or one the local stack brings along) bundles here and
// fails there; a runtime dependency that no function imports makes every deployment install it.
// Both are read from what esbuild bundles, with the template's own build settings.
import { readFileSync } from 'node:fs';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { samEsbuildOptions } from '../../scripts/sam-esbuild.ts';
import { loadTestTemplate, projectRoot } from '../support/template.ts';

interface Manifest {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const manifest = (folder: string): Manifest => JSON.parse(readFileSync(`${projectRoot}${folder}package.json`, 'utf8')) as Manifest;

/** `@scope/name` or `name` from a path inside node_modules (the innermost package). */
function packageOf(path: string): string | undefined {
  const at = path.lastIndexOf('node_modules/');
  if (at === -1) return undefined;
  const [first, second] = path.slice(at + 'node_modules/'.length).split('/');
  return first?.startsWith('@') ? `${first}/${second}` : first;
}

/** The packages the project's own files import (not those the packages import in turn). */
function importedByProjectFiles(metafile: Metafile): Set<string> {
  const packages = new Set<string>();
  for (const [input, { imports }] of Object.entries(metafile.inputs)) {
    if (input.includes('node_modules/')) continue;
    for (const imported of imports) {
      const name = imported.external ? undefined : packageOf(imported.path);
      if (name) packages.add(name);
    }
  }
  return packages;
}

describe('the root dependencies are what the functions import', () => {
  const imported = new Set<string>();
  /** Every package in each function's bundle, its own imports' imports included. */
  const bundled = new Map<string, Set<string>>();

  beforeAll(async () => {
    for (const fn of loadTestTemplate().functions) {
      const result = await build({ ...samEsbuildOptions(fn.buildProperties, projectRoot), metafile: true, write: false, sourcemap: false });
      for (const name of importedByProjectFiles(result.metafile)) imported.add(name);
      bundled.set(fn.logicalId, new Set(Object.keys(result.metafile.inputs).flatMap((input) => packageOf(input) ?? [])));
    }
  });

  it('bundles no zod into any function: the functions parse with the generated validators (shared/lambda/parse.ts)', () => {
    expect(bundled.size).toBeGreaterThan(0);
    expect([...bundled].filter(([, packages]) => packages.has('zod')).map(([logicalId]) => logicalId)).toEqual([]);
  });

  it('declares every package a function imports in dependencies, where sam build installs it', () => {
    const declared = Object.keys(manifest('').dependencies ?? {});
    expect([...imported].filter((name) => !declared.includes(name)).sort()).toEqual([]);
  });

  it('declares in dependencies nothing that no function imports', () => {
    const unused = Object.keys(manifest('').dependencies ?? {}).filter((name) => !imported.has(name));
    expect(unused).toEqual([]);
  });

  it('bundles nothing of the local stack into a function', () => {
    const stack = manifest('local/');
    const runtime = new Set(Object.keys(manifest('').dependencies ?? {}));
    // Packages both declare (e.g. the DynamoDB client) are the product's to import.
    const stackOnly = Object.keys(stack.dependencies ?? {}).filter((name) => !runtime.has(name));
    expect(stackOnly.length).toBeGreaterThan(0);
    expect(stackOnly.filter((name) => imported.has(name))).toEqual([]);
  });
});
