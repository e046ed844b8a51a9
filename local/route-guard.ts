// What the local API Gateway does between matching a route and invoking its function:
// the route's throttle, then its authorizer. Its refusals are problem+json, as every answer
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
  private readonly authorizer: Authorizer | undefined;

  constructor(api: LocalHttpApi, dependencies: AuthorizerDependencies) {
    this.throttle = api.throttling && new RouteThrottle(api.throttling, dependencies.now);
    this.authorizer = api.authorizer && createAuthorizer(api.authorizer, dependencies);
  }

  async check(event: APIGatewayProxyEventV2): Promise<GuardResult> {
    const path = event.rawPath;
    const throttled = this.throttle?.take(event.routeKey);
    if (throttled && !throttled.allowed) {
      return problem(429, `Too many requests to ${event.routeKey}; try again in ${throttled.retryAfterSeconds} s.`, path, {
        'retry-after': String(throttled.retryAfterSeconds),
      });
    }
    if (!this.authorizer) return {};
    const verdict = await this.authorizer.authorize(event);
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
