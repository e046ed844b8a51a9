// What keeps one request from taking the whole local stack down: every server of the stack
// (API, S3, DynamoDB, Rekognition, EventBridge) handles its requests through `guardedHandler`,
// and `guardServer` answers what Node's HTTP parser refuses before a handler ever runs. An
// unexpected error is logged with a request id and answered 500 problem+json while an answer
// is still possible; otherwise the connection is dropped. A client that went away mid-request
// is not an error of ours: its socket is closed and that is all.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export interface SafetyLogger {
  debug?(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const titles: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  408: 'Request Timeout',
  413: 'Content Too Large',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** An RFC 9457 document, as the functions' own errors are. */
export function problemBody(status: number, detail: string, requestId?: string): string {
  return JSON.stringify({
    type: 'about:blank',
    title: titles[status] ?? 'Error',
    status,
    detail,
    ...(requestId && { request_id: requestId }),
  });
}

export function sendProblem(
  res: ServerResponse,
  status: number,
  detail: string,
  options: { requestId?: string; headers?: Record<string, string> } = {},
): void {
  const body = problemBody(status, detail, options.requestId);
  res.writeHead(status, {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    ...options.headers,
  });
  res.end(body);
}

/** True when the error only says that the client closed its connection before we were done. */
export function isClientGone(req: IncomingMessage, error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  // A request read to its end is destroyed too (autoDestroy): only an incomplete one means "gone".
  return (req.destroyed && !req.complete) || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE';
}

export type GuardedListener = (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<void> | void;

/**
 * Wraps a request handler so that nothing it throws or rejects with escapes: a client that went
 * away is dropped quietly, anything else is logged with the request id and answered 500.
 */
export function guardedHandler(server: string, logger: SafetyLogger, handler: GuardedListener): RequestListener {
  return (req, res) => {
    const requestId = randomUUID();
    const fail = (error: unknown): void => {
      if (isClientGone(req, error)) {
        logger.debug?.('client went away mid-request', { server, request_id: requestId, error: String(error) });
        if (!res.writableEnded) res.destroy();
        return;
      }
      logger.error('request failed unexpectedly', {
        server,
        request_id: requestId,
        method: req.method,
        url: req.url,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      try {
        sendProblem(res, 500, 'The local stack failed to handle this request.', {
          requestId,
          headers: { connection: 'close' },
        });
      } catch {
        res.destroy();
      }
      if (!req.complete) req.resume();
    };
    try {
      const result = handler(req, res, requestId);
      if (result) result.catch(fail);
    } catch (error) {
      fail(error);
    }
  };
}

const statusOfParseError: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
};

/**
 * Node answers what its parser refuses (a malformed request line, headers over its limit, a
 * request that took too long) with a bare 400, 431 or 408 of its own; these say what was wrong,
 * as problem+json. A socket whose request is already being answered is only closed.
 */
export function guardServer(server: Server, name: string, logger: SafetyLogger): void {
  // The response under way on a socket, if any: a parse error in the middle of a body (a bad
  // chunk) comes after the handler started, and the answer must then go through it.
  const answering = new WeakMap<Duplex, ServerResponse>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    answering.set(req.socket, res);
    res.once('close', () => answering.delete(req.socket));
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    logger.debug?.('refused a malformed request', { server: name, error: error.message, code: error.code });
    const status = statusOfParseError[error.code ?? ''] ?? 400;
    const detail =
      status === 431
        ? 'The request headers are too large.'
        : status === 408
          ? 'The request took too long to arrive.'
          : `The request is not valid HTTP (${error.code ?? 'parse error'}).`;
    const response = answering.get(socket);
    if (error.code === 'ECONNRESET' || !socket.writable || response?.headersSent) {
      socket.destroy();
      return;
    }
    if (response) {
      sendProblem(response, status, detail, { headers: { connection: 'close' } });
      return;
    }
    const body = problemBody(status, detail);
    socket.end(
      `HTTP/1.1 ${status} ${titles[status] ?? 'Error'}\r\ncontent-type: application/problem+json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}
