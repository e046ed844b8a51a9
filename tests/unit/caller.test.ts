import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { ANONYMOUS_OWNER } from '../../shared/blob/owner.ts';
import { callerOf } from '../../shared/http/caller.ts';
import { HttpProblem } from '../../shared/http/problem.ts';

function eventWith(authorizer?: unknown): Pick<APIGatewayProxyEventV2, 'requestContext'> {
  return { requestContext: { ...(authorizer !== undefined && { authorizer }) } as APIGatewayProxyEventV2['requestContext'] };
}

function refusal(run: () => unknown): HttpProblem {
  try {
    run();
  } catch (error) {
    if (error instanceof HttpProblem) return error;
    throw error;
  }
  throw new Error('the caller was accepted');
}

const savedMode = process.env.AUTH_MODE;
afterEach(() => {
  if (savedMode === undefined) delete process.env.AUTH_MODE;
  else process.env.AUTH_MODE = savedMode;
});

describe('callerOf', () => {
  it('ApiKey: the owner the Lambda authorizer vouched for', () => {
    process.env.AUTH_MODE = 'ApiKey';
    expect(callerOf(eventWith({ lambda: { authenticated: true, owner: 'alice', key_id: '0123456789abcdef' } }))).toEqual({ owner: 'alice' });
    expect(callerOf(eventWith({ lambda: { authenticated: 'true', owner: 'bob' } }))).toEqual({ owner: 'bob' });
  });

  it('ApiKey: 401 with WWW-Authenticate for a refused key, or no authorizer context at all', () => {
    process.env.AUTH_MODE = 'ApiKey';
    for (const authorizer of [undefined, {}, { lambda: { authenticated: false } }, { lambda: { authenticated: true } }, { lambda: { authenticated: 'false', owner: 'x' } }, { jwt: { claims: { sub: 'x' } } }]) {
      const problem = refusal(() => callerOf(eventWith(authorizer)));
      expect(problem.status).toBe(401);
      expect(problem.options.headers?.['www-authenticate']).toMatch(/^Bearer /);
    }
  });

  it('Jwt: the token subject', () => {
    process.env.AUTH_MODE = 'Jwt';
    expect(callerOf(eventWith({ jwt: { claims: { sub: 'user-123', aud: 'api' }, scopes: null } }))).toEqual({ owner: 'user-123' });
    expect(refusal(() => callerOf(eventWith({ jwt: { claims: { aud: 'api' } } }))).status).toBe(401);
    expect(refusal(() => callerOf(eventWith({ lambda: { authenticated: true, owner: 'alice' } }))).status).toBe(401);
  });

  it('None: everyone is the anonymous owner, whatever the request carries', () => {
    process.env.AUTH_MODE = 'None';
    expect(callerOf(eventWith())).toEqual({ owner: ANONYMOUS_OWNER });
    expect(callerOf(eventWith({ lambda: { authenticated: true, owner: 'alice' } }))).toEqual({ owner: ANONYMOUS_OWNER });
  });

  it('fails closed when the mode is not configured', () => {
    delete process.env.AUTH_MODE;
    expect(() => callerOf(eventWith())).toThrow(/AUTH_MODE/);
    process.env.AUTH_MODE = 'none';
    expect(() => callerOf(eventWith())).toThrow(/AUTH_MODE/);
  });
});
