// The files a `label` run covers: each file named, and every file under each folder named
// (recursively, in name order, leaving out dot-files such as .DS_Store). Non-images are kept:
// the API records them FAILED INVALID_IMAGE_FORMAT, which the user should see.
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export async function expandPaths(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new UsageError(`no such file or folder: ${path}`);
    if (info.isFile()) {
      files.push(path);
      continue;
    }
    const entries = await readdir(path, { recursive: true, withFileTypes: true });
    const found = entries
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name))
      .filter((file) => !relative(path, file).split(sep).some((part) => part.startsWith('.')))
      .sort();
    files.push(...found);
  }
  if (files.length === 0) throw new UsageError(`no files to label in ${paths.join(', ')}`);
  return [...new Set(files)];
}
