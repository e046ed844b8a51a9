// The esbuild options `sam build` derives from a function's Metadata.BuildProperties, so the
// bundle test and the bench bundle each function exactly as a deployment would.
import type { BuildOptions } from 'esbuild';

function list(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

/** `Banner: ['js=...']` and `OutExtension: ['.js=.mjs']` are lists of key=value pairs. */
function pairs(value: unknown): Record<string, string> {
  return Object.fromEntries(
    list(value).map((pair) => {
      const at = pair.indexOf('=');
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

/**
 * sam build hands SourcesContent to esbuild as written (`--sources-content=<value>`): a YAML
 * boolean arrives as Python's `False`, which esbuild refuses, so only the quoted text works.
 */
function sourcesContent(value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false') {
    throw new Error(`SourcesContent must be the quoted text 'true' or 'false' (sam build passes it to esbuild as written), got ${JSON.stringify(value)}`);
  }
  return value === 'true';
}

export function samEsbuildOptions(buildProperties: Record<string, unknown>, projectRoot: string): BuildOptions {
  const p = buildProperties;
  const content = sourcesContent(p.SourcesContent);
  return {
    entryPoints: list(p.EntryPoints).map((entry) => `${projectRoot}${entry}`),
    bundle: true,
    platform: 'node',
    format: p.Format === 'esm' ? 'esm' : 'cjs',
    target: String(p.Target ?? 'es2020'),
    minify: p.Minify === true,
    sourcemap: p.Sourcemap === true,
    ...(content !== undefined && { sourcesContent: content }),
    external: list(p.External),
    ...(typeof p.MainFields === 'string' && { mainFields: p.MainFields.split(',') }),
    banner: pairs(p.Banner),
    outExtension: pairs(p.OutExtension),
    logLevel: 'silent',
  };
}
