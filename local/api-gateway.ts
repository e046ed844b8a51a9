// Local API Gateway (HTTP API, payload format 2.0): the routes of template.yaml, matched
// the way HTTP APIs match them (most specific path first, a method before ANY), each
// request turned into the Lambda event the function gets in AWS.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { guardServer, guardedHandler, sendProblem, type SafetyLogger } from './http-safety.ts';
import { FunctionTimeoutError, type LambdaRuntime } from './lambda-runtime.ts';
import type { RouteGuard } from './route-guard.ts';
import type { LocalFunction } from './template.ts';

const PAYLOAD_LIMIT_BYTES = 10 * 1024 * 1024; // HTTP APIs refuse larger requests
const textTypes = /^(text\/|application\/([\w.+-]+\+)?(json|xml)|application\/x-www-form-urlencoded)/i;

interface Route {
  method: string;
  template: string;
  functionId: string;
  /** The route's Auth.Authorizer in the template, if it names one (`NONE`: public). */
  authorizer?: string;
  pattern: RegExp;
  names: string[];
  rank: number;
}

function compileRoute(method: string, template: string, functionId: string, authorizer?: string): Route {
  const names: string[] = [];
  const source = template.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const greedy = name.endsWith('+');
    names.push(greedy ? name.slice(0, -1) : name);
    return greedy ? '(.+)' : '([^/]+)';
  });
  const greedy = template.includes('+}');
  // Lower rank wins: literal paths, then fewer variables, greedy last; a method before ANY.
  const rank = (greedy ? 1000 : 0) + names.length * 10 + (method === 'ANY' ? 1 : 0);
  return { method, template, functionId, ...(authorizer !== undefined && { authorizer }), pattern: new RegExp(`^${source}$`), names, rank };
}

export type ApiGatewayLogger = SafetyLogger;

export class LocalApiGateway {
  private readonly routes: Route[];
  private server: Server | undefined;
  /** The API's own host:port, as API Gateway puts its domain (never the client's Host) in the event. */
  private domainName = 'localhost';

  constructor(
    functions: LocalFunction[],
    private readonly runtime: LambdaRuntime,
    private readonly logger: ApiGatewayLogger,
    /** Throttling and the authorizer the template declares, between routing and the function. */
    private readonly guard?: RouteGuard,
  ) {
    this.routes = functions
      .flatMap((fn) => fn.httpRoutes.map((route) => compileRoute(route.method, route.path, fn.logicalId, route.authorizer)))
      .sort((a, b) => a.rank - b.rank);
  }

  async listen(host: string, port: number): Promise<{ url: string; port: number }> {
    this.server = createServer(guardedHandler('api', this.logger, (req, res, requestId) => this.handle(req, res, requestId)));
    guardServer(this.server, 'api', this.logger);
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, resolve);
    });
    const actual = (this.server.address() as AddressInfo).port;
    this.domainName = `${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${actual}`;
    return { url: `http://${this.domainName}`, port: actual };
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    if (this.server) await new Promise((resolve) => this.server!.close(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const url = requestUrl(req.url ?? '/');
    if (!url) {
      req.resume();
      return sendProblem(res, 400, 'The request target is not a valid path.', { requestId });
    }
    const body = await readLimited(req, PAYLOAD_LIMIT_BYTES);
    if (body === 'too-large') {
      return sendProblem(res, 413, `The request body is over ${PAYLOAD_LIMIT_BYTES} bytes, the API's limit.`, { requestId });
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const match = this.match(method, url.pathname);
    if (!match) return sendProblem(res, 404, `There is nothing at ${url.pathname}.`, { requestId });

    const event = this.event(req, url, method, match, body, requestId);
    const guarded = this.guard ? await this.guard.check(event, match.route.authorizer) : {};
    if ('answer' in guarded) {
      res.writeHead(guarded.answer.status, guarded.answer.headers);
      return void res.end(guarded.answer.body);
    }
    if (guarded.authorizer) Object.assign(event.requestContext, { authorizer: guarded.authorizer });
    try {
      const result = await this.runtime.invoke(match.route.functionId, event);
      writeResult(res, result);
    } catch (error) {
      const timedOut = error instanceof FunctionTimeoutError;
      this.logger.error('function failed', { function: match.route.functionId, request_id: requestId, error: String(error) });
      sendProblem(res, timedOut ? 503 : 500, timedOut ? 'The function timed out.' : 'The function failed.', { requestId });
    }
  }

  private match(method: string, path: string): { route: Route; parameters: Record<string, string> } | undefined {
    for (const route of this.routes) {
      if (route.method !== method && route.method !== 'ANY') continue;
      const found = route.pattern.exec(path);
      if (!found) continue;
      const parameters: Record<string, string> = {};
      route.names.forEach((name, index) => {
        const raw = found[index + 1]!;
        try {
          parameters[name] = decodeURIComponent(raw);
        } catch {
          parameters[name] = raw;
        }
      });
      return { route, parameters };
    }
    return undefined;
  }

  private event(
    req: IncomingMessage,
    url: URL,
    method: string,
    match: { route: Route; parameters: Record<string, string> },
    body: Buffer,
    requestId: string,
  ): APIGatewayProxyEventV2 {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    headers['x-forwarded-proto'] = 'http';
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '127.0.0.1';
    const query: Record<string, string> = {};
    for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
    const isText = body.length === 0 || textTypes.test(headers['content-type'] ?? '');
    const routeKey = `${match.route.method} ${match.route.template}`;
    const now = new Date();
    return {
      version: '2.0',
      routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      ...(Object.keys(query).length > 0 && { queryStringParameters: query }),
      ...(match.route.names.length > 0 && { pathParameters: match.parameters }),
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: this.domainName,
        domainPrefix: this.domainName.split('.')[0]!,
        http: {
          method,
          path: url.pathname,
          protocol: `HTTP/${req.httpVersion}`,
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
          userAgent: headers['user-agent'] ?? '',
        },
        requestId,
        routeKey,
        stage: '$default',
        time: now.toUTCString(),
        timeEpoch: now.getTime(),
      },
      ...(body.length > 0 && { body: isText ? body.toString('utf8') : body.toString('base64') }),
      isBase64Encoded: !isText,
    };
  }
}

/**
 * The request target as a URL, or undefined when it is none: `new URL('//[', base)` would take
 * `[` for a host and throw. Origin-form targets are read as paths, always.
 */
function requestUrl(target: string): URL | undefined {
  try {
    return target.startsWith('/') ? new URL(`http://localhost${target}`) : new URL(target);
  } catch {
    return undefined;
  }
}

function readLimited(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Payload format 2.0's response rules, including its guess for results without statusCode. */
function writeResult(res: ServerResponse, result: unknown): void {
  if (typeof result !== 'object' || result === null || !('statusCode' in result)) {
    return send(res, 200, result ?? null);
  }
  const { statusCode, headers = {}, body = '', isBase64Encoded, cookies = [] } = result as APIGatewayProxyStructuredResultV2;
  const outgoing: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) outgoing[name.toLowerCase()] = String(value);
  if (cookies.length > 0) outgoing['set-cookie'] = cookies;
  res.writeHead(statusCode ?? 200, outgoing);
  res.end(isBase64Encoded ? Buffer.from(body, 'base64') : body);
}
