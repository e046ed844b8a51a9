// RFC 9457 problem details: every error the API returns is one of these.

// Their shape is openapi.yaml's Problem, defined in resources.ts: a field the code puts in an
// error is a field the contract declares.
import type { ProblemDocument, ProblemFieldError } from './resources.ts';

export type { ProblemDocument, ProblemFieldError } from './resources.ts';

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

/** A failure the client should hear about, with the status and words to tell it. */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly options: { errors?: ProblemFieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
  }

  toDocument(instance?: string): ProblemDocument {
    return {
      type: 'about:blank',
      title: titles[this.status] ?? 'Error',
      status: this.status,
      detail: this.detail,
      ...(instance === undefined ? {} : { instance }),
      ...(this.options.errors ? { errors: this.options.errors } : {}),
    };
  }
}

/**
 * The one answer for a blob the caller may not see: an unknown id and another owner's blob get
 * the same words, so an answer never tells whether someone else's blob exists.
 */
export function noSuchBlob(blobId: string): HttpProblem {
  return new HttpProblem(404, `There is no blob ${blobId}.`);
}
