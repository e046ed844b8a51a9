// S3-shaped errors. Clients (the AWS SDK included) read the <Code> element of
// the XML body to decide what went wrong and whether to retry, so the codes
// and HTTP statuses here follow the S3 API reference rather than HTTP habits.

const STATUS_BY_CODE = {
  AccessDenied: 403,
  AuthorizationHeaderMalformed: 400,
  AuthorizationQueryParametersError: 400,
  BadDigest: 400,
  EntityTooLarge: 400,
  IncompleteBody: 400,
  InternalError: 500,
  InvalidAccessKeyId: 403,
  InvalidArgument: 400,
  InvalidDigest: 400,
  InvalidRange: 416,
  InvalidRequest: 400,
  InvalidToken: 400,
  MissingContentLength: 411,
  NotImplemented: 501,
  PreconditionFailed: 412,
  RequestTimeTooSkewed: 403,
  SignatureDoesNotMatch: 403,
  XAmzContentSHA256Mismatch: 400,
} as const;

export type S3ErrorCode = keyof typeof STATUS_BY_CODE;

export class S3Error extends Error {
  override readonly name = 'S3Error';
  readonly status: number;

  constructor(
    readonly code: S3ErrorCode,
    message: string,
    readonly details: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.status = STATUS_BY_CODE[code];
  }
}

export function toS3Error(error: unknown): S3Error {
  if (error instanceof S3Error) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new S3Error('InternalError', `We encountered an internal error. Please try again. (${message})`);
}

export function renderErrorXml(error: S3Error, requestId: string): string {
  const fields: Array<[string, string]> = [
    ['Code', error.code],
    ['Message', error.message],
    ...Object.entries(error.details),
    ['RequestId', requestId],
  ];
  const body = fields.map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${body}</Error>`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
