// What the local API Gateway does between matching a route and invoking its function:
// the route's throttle, then its authorizer (the API's default, the one the route's Auth
// names, or none for `Authorizer: NONE`). Its refusals are problem+json, as every answer
// of this API is; API Gateway's own bodies differ (docs/security.md says how).
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createAuthorizer, type Authorizer, type AuthorizerDependencies } from './authorizers.ts';
import type { LocalHttpApi } from './template.ts';
import { RouteThrottle } from './throttle.ts';

export interface GatewayAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type GuardResult = { answer: GatewayAnswer } | { authorizer?: Record<string, unknown> };

const titles: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 429: 'Too Many Requests', 500: 'Internal Server Error' };

function problem(status: number, detail: string, path: string, headers: Record<string, string> = {}): { answer: GatewayAnswer } {
  return {
    answer: {
      status,
      headers: { 'content-type': 'application/problem+json', ...headers },
      body: JSON.stringify({ type: 'about:blank', title: titles[status], status, detail, instance: path }),
    },
  };
}

export class RouteGuard {
  private readonly throttle: RouteThrottle | undefined;
  /** One per declared authorizer, made when a route first needs it (each keeps its own cache). */
  private readonly authorizers = new Map<string, Authorizer>();

  constructor(
    private readonly api: LocalHttpApi,
    private readonly dependencies: AuthorizerDependencies,
  ) {
    this.throttle = api.throttling && new RouteThrottle(api.throttling, dependencies.now);
  }

  /** The route's authorizer: its Auth's (`NONE`: none), else the API's default. */
  private authorizerFor(routeAuthorizer: string | undefined): Authorizer | undefined {
    if (routeAuthorizer === 'NONE') return undefined;
    const definition = routeAuthorizer === undefined ? this.api.authorizer : this.api.authorizers[routeAuthorizer];
    if (!definition) return undefined;
    let authorizer = this.authorizers.get(definition.name);
    if (!authorizer) {
      authorizer = createAuthorizer(definition, this.dependencies);
      this.authorizers.set(definition.name, authorizer);
    }
    return authorizer;
  }

  /** `routeAuthorizer`: what the matched route's Auth.Authorizer says, if anything. */
  async check(event: APIGatewayProxyEventV2, routeAuthorizer?: string): Promise<GuardResult> {
    const path = event.rawPath;
    const throttled = this.throttle?.take(event.routeKey);
    if (throttled && !throttled.allowed) {
      return problem(429, `Too many requests to ${event.routeKey}; try again in ${throttled.retryAfterSeconds} s.`, path, {
        'retry-after': String(throttled.retryAfterSeconds),
      });
    }
    const authorizer = this.authorizerFor(routeAuthorizer);
    if (!authorizer) return {};
    const verdict = await authorizer.authorize(event);
    switch (verdict.outcome) {
      case 'allow':
        return { authorizer: verdict.authorizer };
      case 'unauthorized':
        // The same words as the functions' own 401 (shared/http/caller.ts).
        return problem(401, 'This API needs credentials: send Authorization: Bearer <API key or token>.', path, {
          'www-authenticate': 'Bearer realm="image-labeling"',
        });
      case 'forbidden':
        return problem(403, 'The authorizer refused this request.', path);
      case 'failed':
        return problem(500, 'The authorizer failed; the request may be retried.', path);
    }
  }
}
