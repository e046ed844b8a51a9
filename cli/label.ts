// `image-labeling label`: labels many files at once (a few at a time), with a progress bar on
// stderr when it is a terminal, then a table (or JSON) of what each file ended as.
import { readFile } from 'node:fs/promises';
import { ImageLabelingClient, ImageLabelingError, type FinalBlob } from '@image-labeling/client';
import { SingleBar } from 'cli-progress';
import pLimit from 'p-limit';
import { resultsTable, statusText, type FileResult } from './format.ts';

export interface LabelOptions {
  json: boolean;
  concurrency: number;
  maxLabels?: number;
  minConfidence?: number;
}

/** Resolves with the exit code: 0 when every file ended COMPLETED, 1 otherwise. */
export async function labelFiles(client: ImageLabelingClient, files: string[], options: LabelOptions): Promise<number> {
  const bar = process.stderr.isTTY
    ? new SingleBar({ stream: process.stderr, format: 'labeling [{bar}] {value}/{total} {file}', hideCursor: true, clearOnComplete: true })
    : undefined;
  bar?.start(files.length, 0, { file: '' });
  const limit = pLimit(options.concurrency);
  const results = await Promise.all(
    files.map((file) =>
      limit(async (): Promise<FileResult> => {
        const result = await labelOne(client, file, options);
        bar?.increment({ file: `${file} ${result.blob ? statusText(result.blob) : 'ERROR'}` });
        return result;
      }),
    ),
  );
  bar?.stop();
  if (options.json) {
    process.stdout.write(`${JSON.stringify(results.map(({ file, blob, error }) => ({ file, ...blob, ...(error ? { error } : {}) })), null, 2)}\n`);
  } else {
    process.stdout.write(`${resultsTable(results)}\n`);
  }
  return results.every((result) => result.blob?.invocation_status === 'COMPLETED') ? 0 : 1;
}

async function labelOne(client: ImageLabelingClient, file: string, options: LabelOptions): Promise<FileResult> {
  try {
    const blob: FinalBlob = await client.labelImage(await readFile(file), {
      ...(options.maxLabels === undefined ? {} : { max_labels: options.maxLabels }),
      ...(options.minConfidence === undefined ? {} : { min_confidence: options.minConfidence }),
    });
    return { file, blob };
  } catch (error) {
    // One file's trouble (unreadable, refused upload, timeout) is its row, not the run's end.
    if (error instanceof ImageLabelingError || (error as NodeJS.ErrnoException).code) return { file, error: (error as Error).message };
    throw error;
  }
}
