// The page: label images (each card shows its upload and labeling live, then the image with its
// boxes and labels), browse recent blobs by label and status, read a blob's event timeline.
// Plain DOM on the typed client (@image-labeling/client's browser entry); bundled by web/build.mjs.
import type { BlobEventRecord, BlobResource, FinalBlob, InvocationStatus, LabelingProgress, ListBlobsQuery } from '@image-labeling/client';
import { forgetApiKey, showKeyButton, withApiKey } from './api-key.ts';

const $ = <T extends Element>(selector: string, root: ParentNode = document): T => root.querySelector<T>(selector)!;

function element<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

const percent = (confidence: number) => `${confidence.toFixed(1)}%`;
const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));
const when = (iso: string | undefined) => (iso ? new Date(iso).toLocaleString() : '');

// ---- Labeling -------------------------------------------------------------------------------

const stageText: Record<LabelingProgress['stage'] | 'uploading', string> = {
  created: 'Created; uploading…',
  uploading: 'Uploading…',
  uploaded: 'Uploaded; waiting for labels…',
  polled: '',
};
const statusText: Partial<Record<InvocationStatus, string>> = {
  ACTION_REQUIRED: 'Uploaded; waiting for the service to notice…',
  IN_PROGRESS: 'Labeling…',
};

async function labelFile(file: File): Promise<void> {
  const status = element('p', { className: 'status', textContent: 'Starting…' });
  const progress = element('progress', { max: 100, value: 0 });
  progress.setAttribute('aria-label', `Progress of ${file.name}`);
  const card = element(
    'li',
    { className: 'upload' },
    element('div', { className: 'upload-head' }, element('span', { className: 'file-name', textContent: file.name }), status),
    progress,
  );
  $('#uploads').prepend(card);
  const show = (text: string, value: number) => {
    status.textContent = text;
    progress.value = value;
  };
  // Upload takes the bar from 5% to 60%; labeling (not measurable) holds it at 80% until the end.
  const onUpload = (sent: number, total: number) => {
    if (total > 0) show(`Uploading… ${Math.round((100 * sent) / total)}%`, 5 + (55 * sent) / total);
  };
  const onProgress = ({ stage, blob }: LabelingProgress) => {
    card.dataset.blobId = blob.blob_id;
    showInRecent(blob);
    if (stage === 'created') show(stageText.created, 5);
    else if (stage === 'uploaded') show(stageText.uploaded, 60);
    else show(statusText[blob.invocation_status] ?? blob.invocation_status, blob.invocation_status === 'IN_PROGRESS' ? 80 : 65);
  };
  try {
    const blob = await withApiKey((client) => client.labelImage(file, { onProgress }), onUpload);
    progress.remove();
    showResult(card, status, blob, file);
    showInRecent(blob);
  } catch (error) {
    progress.remove();
    status.className = 'status error';
    status.textContent = `Failed: ${describe(error)}`;
  }
}

function showResult(card: HTMLElement, status: HTMLElement, blob: FinalBlob, file: File): void {
  card.dataset.status = blob.invocation_status;
  status.className = `status ${blob.invocation_status}`;
  if (blob.invocation_status !== 'COMPLETED') {
    status.textContent = blob.failure ? `${blob.invocation_status} ${blob.failure.code}: ${blob.failure.message}` : blob.invocation_status;
    return;
  }
  const details = blob.label_details ?? [];
  status.textContent = details.length ? `COMPLETED: ${details.length} labels` : 'COMPLETED: nothing recognised';
  const image = element('img', { alt: `${file.name}, labeled: ${(blob.labels ?? []).join(', ') || 'nothing recognised'}` });
  const url = URL.createObjectURL(file);
  image.src = url;
  image.onload = () => URL.revokeObjectURL(url);
  const figure = element('figure', {}, image);
  // Boxes are ratios of the image's size, so percentages place them at any rendered size.
  for (const label of details) {
    for (const instance of label.instances) {
      const { left, top, width, height } = instance.bounding_box;
      const box = element('div', { className: 'box', title: `${label.name} ${percent(instance.confidence)}` }, element('span', { textContent: `${label.name} ${percent(instance.confidence)}` }));
      box.dataset.label = label.name;
      Object.assign(box.style, { left: `${left * 100}%`, top: `${top * 100}%`, width: `${width * 100}%`, height: `${height * 100}%` });
      figure.append(box);
    }
  }
  const labels = element('ul', { className: 'labels' });
  labels.setAttribute('aria-label', 'Labels');
  for (const label of details) {
    labels.append(element('li', {}, element('span', { textContent: label.name }), element('span', { className: 'confidence', textContent: percent(label.confidence) })));
  }
  card.append(element('div', { className: 'result' }, figure, labels));
}

function labelFiles(files: FileList | null): void {
  for (const file of files ?? []) void labelFile(file);
}

const dropZone = $<HTMLLabelElement>('#drop-zone');
const fileInput = $<HTMLInputElement>('#file-input');
fileInput.addEventListener('change', () => {
  labelFiles(fileInput.files);
  fileInput.value = ''; // the same file can be chosen again
});
dropZone.addEventListener('dragover', (event) => {
  event.preventDefault();
  dropZone.classList.add('dragging');
});
dropZone.addEventListener('dragleave', () => dropZone.classList.remove('dragging'));
dropZone.addEventListener('drop', (event) => {
  event.preventDefault();
  dropZone.classList.remove('dragging');
  labelFiles(event.dataTransfer?.files ?? null);
});

// ---- Recent blobs ---------------------------------------------------------------------------

let nextCursor: string | undefined;
let selectedBlob: string | undefined;

function currentFilter(): ListBlobsQuery {
  const label = $<HTMLInputElement>('#filter-label').value.trim();
  const status = $<HTMLSelectElement>('#filter-status').value as InvocationStatus | '';
  return { ...(label ? { label } : {}), ...(status ? { status } : {}) };
}

/** The newest request wins: an answer to an older one (another filter) must not overwrite it. */
function latestOnly(): () => AbortSignal {
  let current: AbortController | undefined;
  return () => {
    current?.abort();
    current = new AbortController();
    return current.signal;
  };
}
const listSignal = latestOnly();
const timelineSignal = latestOnly();

async function refreshRecent(append = false): Promise<void> {
  const message = $('#recent-message');
  const list = $('#blobs');
  const signal = listSignal();
  try {
    const query = { ...currentFilter(), limit: 20, ...(append && nextCursor ? { cursor: nextCursor } : {}) };
    const page = await withApiKey((client) => client.listBlobs(query, { signal }));
    if (signal.aborted) return;
    if (!append) list.replaceChildren();
    for (const blob of page.items) list.append(blobRow(blob));
    nextCursor = page.next_cursor;
    $<HTMLButtonElement>('#more').hidden = !nextCursor;
    message.textContent = list.childElementCount ? '' : 'No blobs match.';
  } catch (error) {
    if (signal.aborted) return;
    message.textContent = `Could not list blobs: ${describe(error)}`;
  }
}

/**
 * Puts a blob this page is labeling into the list as it changes (when the filter lets it in),
 * rather than listing again: the list endpoint reads the read model, which follows a moment later.
 */
function showInRecent(blob: BlobResource): void {
  const { label, status } = currentFilter();
  if (status && blob.invocation_status !== status) return;
  if (label && !(blob.labels ?? []).includes(label)) return;
  const list = $('#blobs');
  const row = blobRow(blob);
  const existing = [...list.children].find((item) => (item as HTMLElement).dataset.blobId === blob.blob_id);
  if (existing) existing.replaceWith(row);
  else list.prepend(row);
  $('#recent-message').textContent = '';
}

function blobRow(blob: BlobResource): HTMLLIElement {
  const button = element(
    'button',
    { type: 'button' },
    element('span', { className: 'id', textContent: blob.blob_id }),
    element('span', { className: `status ${blob.invocation_status}`, textContent: blob.failure ? `${blob.invocation_status} ${blob.failure.code}` : blob.invocation_status }),
    element('span', { textContent: (blob.labels ?? []).slice(0, 4).join(', ') }),
    element('span', { className: 'when', textContent: when(blob.requested_on) }),
  );
  button.setAttribute('aria-pressed', String(blob.blob_id === selectedBlob));
  button.setAttribute('aria-label', `Events of blob ${blob.blob_id}, ${blob.invocation_status}`);
  button.addEventListener('click', () => void showTimeline(blob.blob_id));
  const row = element('li', {}, button);
  row.dataset.blobId = blob.blob_id;
  return row;
}

$<HTMLFormElement>('#filters').addEventListener('submit', (event) => {
  event.preventDefault();
  void refreshRecent();
});
$<HTMLButtonElement>('#more').addEventListener('click', () => void refreshRecent(true));

// ---- Timeline -------------------------------------------------------------------------------

const eventSummary: Record<BlobEventRecord['type'], (data: Record<string, unknown>) => string> = {
  BlobCreated: (data) => (data.callback_url ? `callback to ${String(data.callback_url)}` : 'no callback'),
  BlobUploaded: (data) => (data.size_bytes === undefined ? '' : `${String(data.size_bytes)} bytes`),
  BlobLabeled: (data) =>
    [Array.isArray(data.labels) ? data.labels.map((label) => (label as { name?: string }).name).join(', ') : '', data.model].filter(Boolean).join(' · '),
  BlobFailed: (data) => [data.code, data.message].filter(Boolean).join(': '),
  BlobExpired: () => 'never uploaded',
};

async function showTimeline(blobId: string): Promise<void> {
  selectedBlob = blobId;
  for (const button of document.querySelectorAll('#blobs button')) {
    button.setAttribute('aria-pressed', String(button.closest('li')?.dataset.blobId === blobId));
  }
  const section = $<HTMLElement>('#timeline-section');
  const heading = $<HTMLHeadingElement>('#timeline-heading');
  const list = $('#timeline');
  section.hidden = false;
  heading.textContent = `Events of ${blobId}`;
  list.replaceChildren();
  const signal = timelineSignal();
  try {
    const log = await withApiKey((client) => client.getBlobEvents(blobId, { signal }));
    if (signal.aborted) return;
    for (const event of log.events) {
      const item = element(
        'li',
        {},
        element('strong', { textContent: event.type }),
        ' ',
        element('span', { className: 'when', textContent: `v${event.version} · ${when(event.occurred_at)}` }),
        element('p', { className: 'data', textContent: eventSummary[event.type]?.(event.data) ?? '' }),
      );
      item.dataset.type = event.type;
      list.append(item);
    }
  } catch (error) {
    if (signal.aborted) return;
    list.append(element('li', { textContent: `Could not read the events: ${describe(error)}` }));
  }
  heading.focus();
}

// ---- Start ----------------------------------------------------------------------------------

$<HTMLButtonElement>('#api-key-button').addEventListener('click', () => {
  forgetApiKey();
  showKeyButton();
});
showKeyButton();
void refreshRecent();
