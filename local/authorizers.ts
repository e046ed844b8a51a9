// The HTTP API authorizers of template.yaml, run the way API Gateway runs them in front of a
// route: a Lambda authorizer (payload 2.0, simple responses) invoked through the local
// Lambda runtime with its results cached per identity source for the template's TTL, or a JWT
// authorizer that verifies tokens against the issuer's published keys (OpenID discovery, then
// its JWKS) and checks issuer, audience and times as API Gateway does.
import type { APIGatewayProxyEventV2, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { LocalHttpAuthorizer } from './template.ts';

/** What the route's function gets as requestContext.authorizer, or why the request stops here. */
export type AuthorizerVerdict =
  | { outcome: 'allow'; authorizer: Record<string, unknown> }
  | { outcome: 'unauthorized' }
  | { outcome: 'forbidden' }
  | { outcome: 'failed' };

export interface Authorizer {
  authorize(event: APIGatewayProxyEventV2): Promise<AuthorizerVerdict>;
}

export interface AuthorizerDependencies {
  invoke(functionId: string, event: unknown): Promise<unknown>;
  logger: { error(message: string, fields: Record<string, unknown>): void };
  region: string;
  accountId: string;
  now?: () => number;
}

export function createAuthorizer(definition: LocalHttpAuthorizer, dependencies: AuthorizerDependencies): Authorizer {
  return definition.type === 'lambda' ? new LambdaAuthorizer(definition, dependencies) : new JwtAuthorizer(definition, dependencies);
}

// Bounds the cache, so that a client sending endless made-up keys cannot grow it without end.
const CACHE_ENTRIES = 10_000;

class LambdaAuthorizer implements Authorizer {
  private readonly cache = new Map<string, { verdict: AuthorizerVerdict; expiresMs: number }>();
  private readonly now: () => number;

  constructor(
    private readonly definition: Extract<LocalHttpAuthorizer, { type: 'lambda' }>,
    private readonly dependencies: AuthorizerDependencies,
  ) {
    if (definition.payloadFormatVersion !== '2.0' || !definition.simpleResponses) {
      throw new Error(`authorizer ${definition.name}: the local stack runs Lambda authorizers with payload 2.0 and simple responses`);
    }
    const unreadable = definition.identitySources.find((source) => !identitySourcePattern.test(source));
    if (unreadable) throw new Error(`authorizer ${definition.name}: the local gateway cannot read the identity source ${unreadable}`);
    this.now = dependencies.now ?? Date.now;
  }

  async authorize(event: APIGatewayProxyEventV2): Promise<AuthorizerVerdict> {
    const identity = this.definition.identitySources.map((source) => identityValue(event, source));
    // API Gateway answers 401 itself, without invoking the authorizer, when an identity source is missing.
    if (identity.some((value) => value === undefined || value === '')) return { outcome: 'unauthorized' };
    const cacheKey = JSON.stringify(identity);
    const ttlMs = this.definition.cacheTtlSeconds * 1000;
    const cached = this.cache.get(cacheKey);
    if (cached && cached.expiresMs > this.now()) return cached.verdict;
    if (cached) this.cache.delete(cacheKey);

    const verdict = await this.invoke(event, identity as string[]);
    if (ttlMs > 0 && verdict.outcome !== 'failed') {
      if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(cacheKey, { verdict, expiresMs: this.now() + ttlMs });
    }
    return verdict;
  }

  private async invoke(event: APIGatewayProxyEventV2, identitySource: string[]): Promise<AuthorizerVerdict> {
    const { region, accountId } = this.dependencies;
    const [method, path] = event.routeKey.split(' ');
    const authorizerEvent: APIGatewayRequestAuthorizerEventV2 = {
      version: '2.0',
      type: 'REQUEST',
      routeArn: `arn:aws:execute-api:${region}:${accountId}:${event.requestContext.apiId}/${event.requestContext.stage}/${method}${path}`,
      identitySource,
      routeKey: event.routeKey,
      rawPath: event.rawPath,
      rawQueryString: event.rawQueryString,
      cookies: event.cookies ?? [],
      headers: event.headers as Record<string, string>,
      ...(event.queryStringParameters && { queryStringParameters: event.queryStringParameters as Record<string, string> }),
      requestContext: event.requestContext,
      ...(event.pathParameters && { pathParameters: event.pathParameters as Record<string, string> }),
    };
    let result: unknown;
    try {
      result = await this.dependencies.invoke(this.definition.function, authorizerEvent);
    } catch (error) {
      this.dependencies.logger.error('authorizer failed', { authorizer: this.definition.name, error: String(error) });
      return { outcome: 'failed' };
    }
    const response = (typeof result === 'object' && result !== null ? result : {}) as { isAuthorized?: unknown; context?: unknown };
    if (typeof response.isAuthorized !== 'boolean') {
      this.dependencies.logger.error('authorizer returned no isAuthorized', { authorizer: this.definition.name });
      return { outcome: 'failed' };
    }
    if (!response.isAuthorized) return { outcome: 'forbidden' };
    const context = typeof response.context === 'object' && response.context !== null ? response.context : {};
    return { outcome: 'allow', authorizer: { lambda: context } };
  }
}

class JwtAuthorizer implements Authorizer {
  private keys: ReturnType<typeof createRemoteJWKSet> | undefined;

  constructor(
    private readonly definition: Extract<LocalHttpAuthorizer, { type: 'jwt' }>,
    private readonly dependencies: AuthorizerDependencies,
  ) {}

  async authorize(event: APIGatewayProxyEventV2): Promise<AuthorizerVerdict> {
    const header = event.headers[this.definition.identityHeader];
    if (!header) return { outcome: 'unauthorized' };
    // API Gateway takes the token with or without the Bearer scheme.
    const token = header.replace(/^Bearer +/i, '').trim();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.jwks(), {
        issuer: this.definition.issuer,
        // API Gateway accepts RSA signatures only.
        algorithms: ['RS256', 'RS384', 'RS512'],
        currentDate: new Date((this.dependencies.now ?? Date.now)()),
      }));
    } catch (error) {
      if (!(error instanceof joseErrors.JOSEError)) {
        this.dependencies.logger.error('JWT authorizer failed', { authorizer: this.definition.name, error: String(error) });
      }
      return { outcome: 'unauthorized' };
    }
    // The token is for this API when its aud, or (Cognito access tokens) its client_id, is one of the audiences.
    const audiences = [payload.aud ?? [], payload.client_id ?? []].flat().map(String);
    if (!audiences.some((audience) => this.definition.audience.includes(audience))) return { outcome: 'unauthorized' };
    const scope = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : null;
    return { outcome: 'allow', authorizer: { jwt: { claims: claimsOf(payload), scopes: scope } } };
  }

  private async jwks(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (this.keys) return this.keys;
    const discovery = new URL(`${this.definition.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
    const response = await fetch(discovery, { redirect: 'error', signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`${discovery} answered ${response.status}`);
    const { jwks_uri: jwksUri } = (await response.json()) as { jwks_uri?: unknown };
    if (typeof jwksUri !== 'string') throw new Error(`${discovery} has no jwks_uri`);
    this.keys = createRemoteJWKSet(new URL(jwksUri));
    return this.keys;
  }
}

/** The value of an identity source (a selection expression) in a request, if it has one. */
const identitySourcePattern = /^\$(request\.header|request\.querystring|stageVariables|context)\.(.+)$/;

function identityValue(event: APIGatewayProxyEventV2, source: string): string | undefined {
  const [, kind, name] = identitySourcePattern.exec(source) ?? [];
  switch (kind) {
    case 'request.header':
      return event.headers[name!.toLowerCase()];
    case 'request.querystring':
      return event.queryStringParameters?.[name!];
    case 'stageVariables':
      return event.stageVariables?.[name!];
    case 'context': {
      const value: unknown = (event.requestContext as unknown as Record<string, unknown>)[name!];
      return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
    }
    default:
      return undefined; // refused when the authorizer was made
  }
}

/** Claims as API Gateway passes them: strings, numbers and booleans as they are, the rest as JSON text. */
function claimsOf(payload: JWTPayload): Record<string, string | number | boolean> {
  return Object.fromEntries(
    Object.entries(payload).map(([name, value]) => [
      name,
      typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : JSON.stringify(value),
    ]),
  );
}
