// The few API calls the benchmark makes, with plain fetch: the bench needs only four fields of
// a blob and should not break when the generated client changes.
export interface BenchImage {
  name: string;
  bytes: Buffer;
  contentType: 'image/png' | 'image/jpeg';
}

export interface BlobStatus {
  blob_id: string;
  invocation_status: string;
  upload_url?: string;
  started_on?: string;
  completed_on?: string;
}

/** One blob's trip through the pipeline, in epoch ms (client and server share the machine's clock). */
export interface Trip {
  blobId: string;
  /** Just before the PUT was sent. */
  putStart: number;
  /** When S3 answered the PUT. */
  putDone: number;
  status: string;
  /** record-upload's clock when it recorded the upload. */
  startedOn: number;
  completedOn: number;
}

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'EXPIRED']);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function createBlob(apiUrl: string): Promise<BlobStatus> {
  const response = await fetch(`${apiUrl}/blobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  if (response.status !== 201) throw new Error(`POST /blobs answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as BlobStatus;
}

/** POST /blobs and only report whether it was created (for the throughput run). */
export async function postBlobOk(apiUrl: string): Promise<boolean> {
  const response = await fetch(`${apiUrl}/blobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  await response.arrayBuffer();
  return response.status === 201;
}

export async function upload(blob: BlobStatus, image: BenchImage): Promise<void> {
  if (!blob.upload_url) throw new Error(`blob ${blob.blob_id} has no upload_url`);
  const response = await fetch(blob.upload_url, {
    method: 'PUT',
    headers: { 'content-type': image.contentType },
    body: image.bytes,
  });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`PUT ${image.name} answered ${response.status}`);
}

export async function getBlob(apiUrl: string, blobId: string): Promise<BlobStatus> {
  const response = await fetch(`${apiUrl}/blobs/${blobId}`);
  if (response.status !== 200) throw new Error(`GET /blobs/${blobId} answered ${response.status}`);
  return (await response.json()) as BlobStatus;
}

export function isTerminal(blob: BlobStatus): boolean {
  return TERMINAL.has(blob.invocation_status);
}

/** Polls one blob until it ends. The poll interval only delays noticing: times come from the server. */
export async function waitUntilTerminal(apiUrl: string, blobId: string, pollMs: number, timeoutMs: number): Promise<BlobStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Sleep first: nothing is ready right after the upload, and an early GET only competes
    // with the pipeline for the stack's one thread.
    await sleep(pollMs);
    const blob = await getBlob(apiUrl, blobId);
    if (isTerminal(blob)) return blob;
    if (Date.now() > deadline) throw new Error(`blob ${blobId} still ${blob.invocation_status} after ${timeoutMs} ms`);
  }
}

export function tripOf(blob: BlobStatus, putStart: number, putDone: number): Trip {
  return {
    blobId: blob.blob_id,
    putStart,
    putDone,
    status: blob.invocation_status,
    startedOn: blob.started_on ? Date.parse(blob.started_on) : Number.NaN,
    completedOn: blob.completed_on ? Date.parse(blob.completed_on) : Number.NaN,
  };
}

/**
 * Waits for many blobs with little load on the stack: each round checks a few of the oldest
 * pending blobs (they finish roughly in order), so the polling does not compete with the
 * pipeline it measures.
 */
export async function waitForAll(apiUrl: string, blobIds: string[], timeoutMs: number): Promise<Map<string, BlobStatus>> {
  const done = new Map<string, BlobStatus>();
  const pending = [...blobIds];
  const deadline = Date.now() + timeoutMs;
  const perRound = 4;
  while (pending.length > 0 && Date.now() < deadline) {
    for (const blobId of pending.slice(0, perRound)) {
      const blob = await getBlob(apiUrl, blobId);
      if (isTerminal(blob)) done.set(blobId, blob);
    }
    pending.splice(0, pending.length, ...pending.filter((blobId) => !done.has(blobId)));
    if (pending.length > 0) await sleep(100);
  }
  return done;
}
