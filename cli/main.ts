// image-labeling: the API from a terminal. Exit codes: 0 done (every file COMPLETED), 1 a file
// failed or the API said no or could not be reached (one line on stderr), 2 a usage error.
import { ImageLabelingClient, NetworkError, ProblemError, type ListBlobsQuery } from '@image-labeling/client';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { expandPaths, UsageError } from './files.ts';
import { blobText, eventsTable, pageTable } from './format.ts';
import { labelFiles } from './label.ts';

const version = '0.1.0';

function numberIn(min: number, max: number, integer: boolean) {
  return (value: string): number => {
    const number = Number(value);
    if (value.trim() === '' || !Number.isFinite(number) || (integer && !Number.isInteger(number)) || number < min || number > max) {
      throw new InvalidArgumentError(`expected ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
    }
    return number;
  };
}

interface GlobalOptions {
  api: string;
  apiKey?: string;
  json?: boolean;
}

const program = new Command('image-labeling')
  .description('Label images with the Image Labeling API, and read blobs, lists and event logs.')
  .version(version)
  .addOption(new Option('--api <url>', 'the API base URL').env('IMAGE_LABELING_API').default('http://127.0.0.1:3000'))
  .addOption(new Option('--api-key <key>', 'sent as Authorization: Bearer').env('IMAGE_LABELING_API_KEY'))
  .option('--json', 'print JSON instead of a table')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

let exitCode = 0;

function clientFor(command: Command): { client: ImageLabelingClient; options: GlobalOptions } {
  const options = command.optsWithGlobals<GlobalOptions>();
  try {
    new URL(options.api);
  } catch {
    throw new UsageError(`--api must be an absolute URL, got "${options.api}"`);
  }
  return { client: new ImageLabelingClient({ baseUrl: options.api, ...(options.apiKey ? { apiKey: options.apiKey } : {}) }), options };
}

function print(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(`${json ? JSON.stringify(value, null, 2) : text()}\n`);
}

program
  .command('label')
  .description('label images: files, or folders (every file under them)')
  .argument('<paths...>', 'image files or folders')
  .addOption(new Option('--concurrency <n>', 'images labeled at once').default(4).argParser(numberIn(1, 64, true)))
  .addOption(new Option('--max-labels <n>', 'at most this many labels per image (1-100)').argParser(numberIn(1, 100, true)))
  .addOption(new Option('--min-confidence <n>', 'leave out labels below this confidence (0-100)').argParser(numberIn(0, 100, false)))
  .action(async (paths: string[], local: { concurrency: number; maxLabels?: number; minConfidence?: number }, command: Command) => {
    const files = await expandPaths(paths);
    const { client, options } = clientFor(command);
    // One cheap call first: an unreachable API or a refused key is one line, not a row per file.
    await client.listBlobs({ limit: 1 });
    exitCode = await labelFiles(client, files, { json: Boolean(options.json), ...local });
  });

program
  .command('get')
  .description("show a blob's status and labels")
  .argument('<blob_id>')
  .action(async (blobId: string, _local: unknown, command: Command) => {
    const { client, options } = clientFor(command);
    const blob = await client.getBlob(blobId);
    print(options.json, blob, () => blobText(blob));
  });

program
  .command('list')
  .description('list blobs, newest first')
  .option('--status <status>', 'only blobs with this status (ACTION_REQUIRED, IN_PROGRESS, COMPLETED, FAILED, EXPIRED)')
  .option('--label <label>', 'only blobs with this label, e.g. Cat')
  .addOption(new Option('--limit <n>', 'how many (1-100)').argParser(numberIn(1, 100, true)))
  .option('--cursor <cursor>', 'the next page: the cursor the previous page printed')
  .action(async (local: { status?: string; label?: string; limit?: number; cursor?: string }, command: Command) => {
    const { client, options } = clientFor(command);
    const page = await client.listBlobs({
      ...(local.status ? { status: local.status as ListBlobsQuery['status'] } : {}),
      ...(local.label ? { label: local.label } : {}),
      ...(local.limit ? { limit: local.limit } : {}),
      ...(local.cursor ? { cursor: local.cursor } : {}),
    });
    print(options.json, page, () => pageTable(page));
    if (!options.json && page.next_cursor) process.stderr.write(`more: --cursor ${page.next_cursor}\n`);
  });

program
  .command('events')
  .description("show a blob's event log (its audit trail)")
  .argument('<blob_id>')
  .action(async (blobId: string, _local: unknown, command: Command) => {
    const { client, options } = clientFor(command);
    const log = await client.getBlobEvents(blobId);
    print(options.json, log, () => eventsTable(log));
  });

try {
  await program.parseAsync();
  process.exitCode = exitCode;
} catch (error) {
  process.exitCode = failure(error);
}

/** One line on stderr and the exit code for it; a stack trace only for what nobody expected. */
function failure(error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and --version "fail" with code 0; every other commander error is a usage error.
    return error.exitCode === 0 ? 0 : 2;
  }
  if (error instanceof UsageError) {
    process.stderr.write(`image-labeling: ${error.message}\n`);
    return 2;
  }
  if (error instanceof ProblemError) {
    const hint = error.status === 401 || error.status === 403 ? ' (check --api-key or IMAGE_LABELING_API_KEY)' : '';
    const details = error.errors
      .filter((entry) => !error.detail?.includes(entry.detail))
      .map((entry) => `; ${entry.pointer ? `${entry.pointer}: ` : ''}${entry.detail}`).join('');
    process.stderr.write(`image-labeling: the API answered ${error.message}${details}${hint}\n`);
    return error.status === 400 ? 2 : 1;
  }
  if (error instanceof NetworkError) {
    process.stderr.write(`image-labeling: ${error.message} (is the API running? set --api or IMAGE_LABELING_API)\n`);
    return 1;
  }
  throw error;
}
