// The API's calls, typed from openapi.yaml (openapi-fetch), each returning its data or throwing a
// typed error; plus labelImage: create, upload, wait. Runs wherever fetch does (Node 20+,
// browsers): nothing here imports from Node.
import createClient, { type Client } from 'openapi-fetch';
import { ImageLabelingError, LabelingTimeoutError, NetworkError, ProblemError, UploadError } from './errors.js';
import type { components, paths } from './generated/openapi.js';
import { detectImageType, toBody, type ImageInput } from './image.js';

type Schemas = components['schemas'];
export type BlobResource = Schemas['Blob'];
export type BlobPage = Schemas['BlobPage'];
export type BlobEventLog = Schemas['BlobEventLog'];
export type BlobEventRecord = Schemas['BlobEventRecord'];
export type CreateBlobRequest = Schemas['CreateBlobRequest'];
export type InvocationStatus = Schemas['InvocationStatus'];
export type Failure = Schemas['Failure'];
export type LabelDetail = Schemas['LabelDetail'];
export type ListBlobsQuery = NonNullable<paths['/blobs']['get']['parameters']['query']>;

export type FinalStatus = Extract<InvocationStatus, 'COMPLETED' | 'FAILED' | 'EXPIRED'>;
/** A blob that has reached its end: `labels` when COMPLETED, `failure` when FAILED. */
export type FinalBlob = BlobResource & { invocation_status: FinalStatus };

export const finalStatuses: readonly FinalStatus[] = ['COMPLETED', 'FAILED', 'EXPIRED'];
export const isFinal = (blob: BlobResource): blob is FinalBlob => (finalStatuses as readonly string[]).includes(blob.invocation_status);

export interface ClientOptions {
  /** The API's base URL, e.g. `http://127.0.0.1:3000` or your deployment's `ApiUrl`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>` to the API (never to the upload URL). */
  apiKey?: string;
  /** A fetch to use instead of the global one (a proxy agent, a test double). */
  fetch?: typeof globalThis.fetch;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface WaitOptions extends RequestOptions {
  /** Give up (LabelingTimeoutError) after this long; 300,000 ms (5 minutes) by default. */
  timeoutMs?: number;
  /** Polling backoff: the first wait, and the longest; 250 ms growing by half each time up to 2,000 ms by default. */
  pollIntervalMs?: { initial?: number; max?: number };
  /** Told of each step: the blob as it was created, once uploaded, and at each poll. */
  onProgress?: (progress: LabelingProgress) => void;
}

export interface LabelingProgress {
  stage: 'created' | 'uploaded' | 'polled';
  blob: BlobResource;
}

/** `POST /blobs`'s fields (`content_type` is taken from the image's bytes) and how to wait. */
export type LabelImageOptions = Omit<CreateBlobRequest, 'content_type'> & WaitOptions;

export class ImageLabelingClient {
  /** The raw typed calls (openapi-fetch), for anything the methods below do not cover. */
  readonly raw: Client<paths>;
  readonly baseUrl: string;
  readonly #fetch: typeof globalThis.fetch;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    // Looked up at call time, so a fetch patched after construction (tests, polyfills) is used.
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.raw = createClient<paths>({
      baseUrl: this.baseUrl,
      fetch: this.#fetch,
      headers: options.apiKey ? { Authorization: `Bearer ${options.apiKey}` } : {},
    });
  }

  createBlob(body: CreateBlobRequest = {}, options: RequestOptions = {}): Promise<BlobResource> {
    return this.#unwrap(options.signal, () => this.raw.POST('/blobs', { body, signal: options.signal }));
  }

  getBlob(blobId: string, options: RequestOptions = {}): Promise<BlobResource> {
    return this.#unwrap(options.signal, () =>
      this.raw.GET('/blobs/{blob_id}', { params: { path: { blob_id: blobId } }, signal: options.signal }),
    );
  }

  /** One page, newest first; pass `next_cursor` back as `cursor` for the next. */
  listBlobs(query: ListBlobsQuery = {}, options: RequestOptions = {}): Promise<BlobPage> {
    return this.#unwrap(options.signal, () => this.raw.GET('/blobs', { params: { query }, signal: options.signal }));
  }

  getBlobEvents(blobId: string, options: RequestOptions = {}): Promise<BlobEventLog> {
    return this.#unwrap(options.signal, () =>
      this.raw.GET('/blobs/{blob_id}/events', { params: { path: { blob_id: blobId } }, signal: options.signal }),
    );
  }

  /** PUTs the image to the blob's presigned `upload_url` with the Content-Type the blob was bound to (or the bytes say). */
  async uploadImage(blob: BlobResource, image: ImageInput, options: RequestOptions = {}): Promise<void> {
    if (!blob.upload_url) throw new ImageLabelingError(`blob ${blob.blob_id} has no upload_url: it is ${blob.invocation_status}`);
    const contentType = blob.content_type ?? (await detectImageType(image)) ?? 'application/octet-stream';
    let response: Response;
    try {
      response = await this.#fetch(blob.upload_url, {
        method: 'PUT',
        body: toBody(image),
        headers: { 'content-type': contentType },
        signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      // The URL's query is a signature: keep it out of messages and logs.
      throw new NetworkError(blob.upload_url.split('?')[0]!, { cause: error });
    }
    const text = await response.text();
    if (!response.ok) throw new UploadError(blob.blob_id, response.status, text);
  }

  /** Polls the blob with backoff until it is COMPLETED, FAILED or EXPIRED. */
  async waitForBlob(blobId: string, options: WaitOptions = {}): Promise<FinalBlob> {
    return this.#withTimeout(options, blobId, async (signal, progress) => {
      const { initial = 250, max = 2000 } = options.pollIntervalMs ?? {};
      for (let wait = initial; ; wait = Math.min(max, wait * 1.5)) {
        const blob = await this.getBlob(blobId, { signal });
        progress.last = blob.invocation_status;
        options.onProgress?.({ stage: 'polled', blob });
        if (isFinal(blob)) return blob;
        await sleep(wait, signal);
      }
    });
  }

  /**
   * Creates a blob, uploads the image to it and waits for its end. Resolves with the final blob
   * (FAILED and EXPIRED included: those are results, with `failure` saying why); rejects with a
   * ProblemError, NetworkError, UploadError or LabelingTimeoutError, or the signal's reason.
   */
  async labelImage(image: ImageInput, options: LabelImageOptions = {}): Promise<FinalBlob> {
    const { signal: _signal, timeoutMs: _timeout, pollIntervalMs, onProgress, ...request } = options;
    return this.#withTimeout(options, undefined, async (signal, progress) => {
      const contentType = await detectImageType(image);
      const created = await this.createBlob({ ...request, ...(contentType ? { content_type: contentType } : {}) }, { signal });
      progress.blobId = created.blob_id;
      progress.last = created.invocation_status;
      onProgress?.({ stage: 'created', blob: created });
      await this.uploadImage(created, image, { signal });
      onProgress?.({ stage: 'uploaded', blob: created });
      // The remaining time is what the outer timeout leaves: pass no second one.
      return this.waitForBlob(created.blob_id, { signal, timeoutMs: Number.POSITIVE_INFINITY, pollIntervalMs, onProgress });
    });
  }

  async #withTimeout<T>(
    options: WaitOptions,
    blobId: string | undefined,
    run: (signal: AbortSignal | undefined, progress: { blobId?: string; last: string }) => Promise<T>,
  ): Promise<T> {
    const timeoutMs = options.timeoutMs ?? 300_000;
    const timeout = Number.isFinite(timeoutMs) ? AbortSignal.timeout(timeoutMs) : undefined;
    const signals = [options.signal, timeout].filter((signal): signal is AbortSignal => signal !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    const progress: { blobId?: string; last: string } = { last: 'not created' };
    if (blobId) progress.blobId = blobId;
    try {
      return await run(signal, progress);
    } catch (error) {
      if (timeout?.aborted && !options.signal?.aborted) {
        throw new LabelingTimeoutError(progress.blobId ?? '(not created)', progress.last, timeoutMs);
      }
      throw error;
    }
  }

  async #unwrap<D>(
    signal: AbortSignal | undefined,
    call: () => Promise<{ data?: D; error?: unknown; response: Response }>,
  ): Promise<D> {
    let result: { data?: D; error?: unknown; response: Response };
    try {
      result = await call();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new NetworkError(this.baseUrl, { cause: error });
    }
    if (!result.response.ok) throw ProblemError.from(result.response, result.error);
    return result.data as D;
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
