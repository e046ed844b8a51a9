// Who is calling: the owner the deployment's authorizer vouched for, in each AuthMode.
//   ApiKey: the Lambda authorizer's context (requestContext.authorizer.lambda), which also
//           says whether the key was valid (functions/authorize-api-key.ts).
//   Jwt:    the JWT authorizer's verified claims; the owner is `sub`.
//   None:   everyone is the one anonymous owner.
// Anything else is a 401: a caller the handler cannot name never reaches business logic.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { authMode } from '../config.ts';
import { ANONYMOUS_OWNER } from '../blob/owner.ts';
import { HttpProblem } from './problem.ts';

export interface Caller {
  owner: string;
}

/** What the API key authorizer puts in its context (values must be strings, numbers or booleans). */
export type ApiKeyAuthorizerContext =
  | { authenticated: true; owner: string; key_id: string }
  | { authenticated: false };

type EventWithAuthorizer = Pick<APIGatewayProxyEventV2, 'requestContext'> & {
  requestContext: { authorizer?: unknown };
};

function field(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/**
 * One answer for a missing, malformed, unknown or revoked credential, so that it never tells
 * whether a key exists.
 */
export function unauthorized(): HttpProblem {
  return new HttpProblem(401, 'This API needs credentials: send Authorization: Bearer <API key or token>.', {
    headers: { 'www-authenticate': 'Bearer realm="image-labeling"' },
  });
}

export function callerOf(event: EventWithAuthorizer): Caller {
  const authorizer = event.requestContext.authorizer;
  switch (authMode()) {
    case 'None':
      return { owner: ANONYMOUS_OWNER };
    case 'ApiKey': {
      const owner = field(authorizer, 'lambda', 'owner');
      // API Gateway may hand context values on as strings.
      const authenticated = field(authorizer, 'lambda', 'authenticated');
      if ((authenticated !== true && authenticated !== 'true') || typeof owner !== 'string' || owner === '') throw unauthorized();
      return { owner };
    }
    case 'Jwt': {
      const sub = field(authorizer, 'jwt', 'claims', 'sub');
      if (typeof sub !== 'string' || sub === '') throw unauthorized();
      return { owner: sub };
    }
  }
}
