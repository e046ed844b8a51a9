// Every failure the client reports is one of these classes, so callers can tell "the API said
// no" (ProblemError, with the API's own explanation) from "the API could not be reached" and
// from "the labeling did not end in time".
import type { components } from './generated/openapi.js';

export type Problem = components['schemas']['Problem'];

/** The base of every error this package throws (except an abort, which rethrows the signal's reason). */
export class ImageLabelingError extends Error {
  override readonly name: string = 'ImageLabelingError';
}

/** The API answered with an error: an RFC 9457 problem document (status, title, detail, errors). */
export class ProblemError extends ImageLabelingError {
  override readonly name = 'ProblemError';
  readonly status: number;
  readonly title: string;
  readonly type: string;
  readonly detail: string | undefined;
  readonly errors: NonNullable<Problem['errors']>;
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail ? `${problem.status} ${problem.title}: ${problem.detail}` : `${problem.status} ${problem.title}`);
    this.problem = problem;
    this.status = problem.status;
    this.title = problem.title;
    this.type = problem.type;
    this.detail = problem.detail;
    this.errors = problem.errors ?? [];
  }

  /** Builds the error from any error response, problem+json or not (a proxy's HTML page, say). */
  static from(response: Response, body: unknown): ProblemError {
    if (isProblem(body)) return new ProblemError(body);
    const detail = typeof body === 'string' && body.trim() ? body.trim().slice(0, 500) : undefined;
    return new ProblemError({
      type: 'about:blank',
      status: response.status,
      title: response.statusText || `HTTP ${response.status}`,
      ...(detail ? { detail } : {}),
    });
  }
}

function isProblem(body: unknown): body is Problem {
  if (typeof body !== 'object' || body === null) return false;
  const { status, title } = body as Record<string, unknown>;
  return typeof status === 'number' && typeof title === 'string';
}

/** The API (or the upload URL) could not be reached at all: refused, DNS failed, TLS failed. */
export class NetworkError extends ImageLabelingError {
  override readonly name = 'NetworkError';
  constructor(
    readonly url: string,
    options: { cause: unknown },
  ) {
    super(`cannot reach ${url}: ${describeCause(options.cause)}`, options);
  }
}

/** The storage behind `upload_url` refused the image (an expired or tampered URL, a wrong Content-Type). */
export class UploadError extends ImageLabelingError {
  override readonly name = 'UploadError';
  constructor(
    readonly blobId: string,
    readonly status: number,
    readonly body: string,
  ) {
    const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1];
    super(`the upload of blob ${blobId} was refused with ${status}${code ? ` (${code})` : ''}`);
  }
}

/** labelImage's timeout passed before the blob reached a final status; it may still end later. */
export class LabelingTimeoutError extends ImageLabelingError {
  override readonly name = 'LabelingTimeoutError';
  constructor(
    readonly blobId: string,
    readonly lastStatus: string,
    readonly timeoutMs: number,
  ) {
    super(`blob ${blobId} was still ${lastStatus} after ${timeoutMs} ms`);
  }
}

/** fetch's TypeError("fetch failed") hides the reason in its cause (ECONNREFUSED, ENOTFOUND...). */
function describeCause(cause: unknown): string {
  let current = cause;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  if (!(current instanceof Error)) return String(current);
  const code = (current as { code?: unknown }).code;
  // An AggregateError (every address of a name refused) has an empty message but a code.
  return current.message || (typeof code === 'string' ? code : current.name);
}
