// How results read on a terminal: one table row per blob, labels with their confidence.
import Table from 'cli-table3';
import type { BlobEventLog, BlobPage, BlobResource } from '@image-labeling/client';

const plain = {
  chars: {
    top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '',
    'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
  },
  style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
};

function table(head: string[], rows: string[][]): string {
  const output = new Table({ head, ...plain });
  output.push(...rows);
  return output.toString().split('\n').map((line) => line.trimEnd()).join('\n');
}

export function statusText(blob: BlobResource): string {
  return blob.failure ? `${blob.invocation_status} ${blob.failure.code}` : blob.invocation_status;
}

/** The top labels with their confidence, or why there are none. */
export function labelsText(blob: BlobResource, top = 5): string {
  if (blob.failure) return blob.failure.message;
  const details = blob.label_details ?? (blob.labels ?? []).map((name) => ({ name, confidence: undefined }));
  if (blob.invocation_status === 'COMPLETED' && details.length === 0) return '(nothing recognised)';
  return details
    .slice(0, top)
    .map((label) => (label.confidence === undefined ? label.name : `${label.name} ${label.confidence.toFixed(1)}%`))
    .join(', ');
}

export interface FileResult {
  file: string;
  blob?: BlobResource;
  error?: string;
}

export function resultsTable(results: FileResult[]): string {
  return table(
    ['FILE', 'STATUS', 'LABELS'],
    results.map(({ file, blob, error }) => (blob ? [file, statusText(blob), labelsText(blob)] : [file, 'ERROR', error ?? ''])),
  );
}

export function blobText(blob: BlobResource): string {
  const rows: [string, string | undefined][] = [
    ['blob_id', blob.blob_id],
    ['status', statusText(blob)],
    ['requested_on', blob.requested_on],
    ['started_on', blob.started_on],
    ['completed_on', blob.completed_on],
    ['expired_on', blob.expired_on],
    ['image', blob.image && `${blob.image.width}x${blob.image.height} ${blob.image.content_type} ${blob.image.size_bytes} bytes`],
    ['model', blob.model],
    ['labels', blob.label_details || blob.failure ? labelsText(blob, 100) : undefined],
    ['callback_url', blob.callback_url],
  ];
  return rows
    .filter((row): row is [string, string] => Boolean(row[1]))
    .map(([name, value]) => `${`${name}:`.padEnd(14)}${value}`)
    .join('\n');
}

export function pageTable(page: BlobPage): string {
  return table(
    ['BLOB_ID', 'STATUS', 'REQUESTED_ON', 'LABELS'],
    page.items.map((blob) => [blob.blob_id, statusText(blob), blob.requested_on, labelsText(blob, 3)]),
  );
}

export function eventsTable(log: BlobEventLog): string {
  return table(
    ['VERSION', 'TYPE', 'OCCURRED_AT'],
    log.events.map((event) => [String(event.version), event.type, event.occurred_at]),
  );
}
