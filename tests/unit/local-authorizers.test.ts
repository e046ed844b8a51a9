// The local gateway's authorizers, as API Gateway runs them: the Lambda authorizer's cache and
// identity source, and JWT verification against an issuer's published keys.
import type { APIGatewayProxyEventV2, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizer } from '../../local/authorizers.ts';
import type { LocalHttpAuthorizer } from '../../local/template.ts';
import { startTestIssuer, type TestIssuer } from '../support/jwt-issuer.ts';

function request(headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'GET /blobs',
    rawPath: '/blobs',
    rawQueryString: '',
    headers,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method: 'GET', path: '/blobs', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: '' },
      requestId: 'r',
      routeKey: 'GET /blobs',
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
  };
}

const errors: string[] = [];
const logger = { error: (message: string) => void errors.push(message) };

function lambdaAuthorizer(
  cacheTtlSeconds: number,
  answer: (event: APIGatewayRequestAuthorizerEventV2) => unknown,
  identitySources = ['$request.header.authorization'],
) {
  let now = 0;
  const seen: APIGatewayRequestAuthorizerEventV2[] = [];
  const definition: LocalHttpAuthorizer = {
    type: 'lambda',
    name: 'ApiKeyAuthorizer',
    function: 'AuthorizeApiKeyFunction',
    payloadFormatVersion: '2.0',
    simpleResponses: true,
    identitySources,
    cacheTtlSeconds,
  };
  const authorizer = createAuthorizer(definition, {
    invoke: async (functionId, event) => {
      expect(functionId).toBe('AuthorizeApiKeyFunction');
      seen.push(event as APIGatewayRequestAuthorizerEventV2);
      return answer(event as APIGatewayRequestAuthorizerEventV2);
    },
    logger,
    region: 'us-east-1',
    accountId: '000000000000',
    now: () => now,
  });
  return { authorizer, seen, advance: (ms: number) => void (now += ms) };
}

describe('local Lambda authorizer', () => {
  it('hands the function a payload 2.0 REQUEST event and passes its context on as requestContext.authorizer.lambda', async () => {
    const { authorizer, seen } = lambdaAuthorizer(0, () => ({ isAuthorized: true, context: { owner: 'alice', authenticated: true } }));
    const verdict = await authorizer.authorize(request({ authorization: 'Bearer k1' }));
    expect(verdict).toEqual({ outcome: 'allow', authorizer: { lambda: { owner: 'alice', authenticated: true } } });
    expect(seen[0]).toMatchObject({ version: '2.0', type: 'REQUEST', identitySource: ['Bearer k1'], routeKey: 'GET /blobs' });
    expect(seen[0]!.routeArn).toBe('arn:aws:execute-api:us-east-1:000000000000:local/$default/GET/blobs');
  });

  it('answers 401 itself, without invoking the function, when the identity source is missing', async () => {
    const { authorizer, seen } = lambdaAuthorizer(300, () => ({ isAuthorized: true, context: {} }));
    expect(await authorizer.authorize(request())).toEqual({ outcome: 'unauthorized' });
    expect(await authorizer.authorize(request({ authorization: '' }))).toEqual({ outcome: 'unauthorized' });
    expect(seen).toHaveLength(0);
  });

  it('caches each identity source for the TTL, then asks again', async () => {
    let verdicts = 0;
    const { authorizer, seen, advance } = lambdaAuthorizer(300, () => ({ isAuthorized: true, context: { n: ++verdicts } }));
    const first = await authorizer.authorize(request({ authorization: 'Bearer k1' }));
    advance(299_000);
    expect(await authorizer.authorize(request({ authorization: 'Bearer k1' }))).toEqual(first);
    expect(await authorizer.authorize(request({ authorization: 'Bearer k2' }))).not.toEqual(first);
    expect(seen).toHaveLength(2);
    advance(1_000);
    expect(await authorizer.authorize(request({ authorization: 'Bearer k1' }))).toEqual({ outcome: 'allow', authorizer: { lambda: { n: 3 } } });
    expect(seen).toHaveLength(3);
  });

  it('takes a context variable as identity source: one cached verdict for every request of the stage', async () => {
    const { authorizer, seen, advance } = lambdaAuthorizer(3600, () => ({ isAuthorized: true }), ['$context.stage']);
    expect(await authorizer.authorize(request())).toEqual({ outcome: 'allow', authorizer: { lambda: {} } });
    expect(await authorizer.authorize(request({ authorization: 'Bearer anything' }))).toEqual({ outcome: 'allow', authorizer: { lambda: {} } });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.identitySource).toEqual(['$default']);
    advance(3600_000);
    await authorizer.authorize(request());
    expect(seen).toHaveLength(2);
  });

  it('refuses, when made, an identity source the local gateway cannot read', () => {
    expect(() => lambdaAuthorizer(300, () => ({ isAuthorized: true }), ['$method.request.header.x'])).toThrow(/cannot read the identity source/);
  });

  it('with a TTL of 0 asks on every request (a revoked key stops working at once)', async () => {
    const { authorizer, seen } = lambdaAuthorizer(0, () => ({ isAuthorized: true, context: {} }));
    await authorizer.authorize(request({ authorization: 'Bearer k1' }));
    await authorizer.authorize(request({ authorization: 'Bearer k1' }));
    expect(seen).toHaveLength(2);
  });

  it('a deny is 403 and a failing authorizer 500, which is not cached', async () => {
    const deny = lambdaAuthorizer(300, () => ({ isAuthorized: false }));
    expect(await deny.authorizer.authorize(request({ authorization: 'x' }))).toEqual({ outcome: 'forbidden' });
    let calls = 0;
    const failing = lambdaAuthorizer(300, () => {
      calls += 1;
      if (calls === 1) throw new Error('boom');
      return { isAuthorized: true, context: {} };
    });
    expect(await failing.authorizer.authorize(request({ authorization: 'x' }))).toEqual({ outcome: 'failed' });
    expect(await failing.authorizer.authorize(request({ authorization: 'x' }))).toMatchObject({ outcome: 'allow' });
    const malformed = lambdaAuthorizer(0, () => 'yes');
    expect(await malformed.authorizer.authorize(request({ authorization: 'x' }))).toEqual({ outcome: 'failed' });
  });
});

describe('local JWT authorizer', () => {
  let issuer: TestIssuer;
  let definition: LocalHttpAuthorizer;
  beforeAll(async () => {
    issuer = await startTestIssuer();
    definition = { type: 'jwt', name: 'JwtAuthorizer', issuer: issuer.issuer, audience: ['image-labeling'], identityHeader: 'authorization' };
  });
  afterAll(() => issuer.close());

  const authorize = (headers: Record<string, string>) =>
    createAuthorizer(definition, { invoke: () => Promise.reject(new Error('no function')), logger, region: 'us-east-1', accountId: '0' }).authorize(
      request(headers),
    );

  it('accepts a token of the issuer for the audience, with or without Bearer, and passes its claims', async () => {
    const token = await issuer.sign({ sub: 'user-1', scope: 'blobs:read blobs:write' }, { audience: 'image-labeling' });
    const verdict = await authorize({ authorization: `Bearer ${token}` });
    expect(verdict).toMatchObject({ outcome: 'allow', authorizer: { jwt: { claims: { sub: 'user-1', aud: 'image-labeling' }, scopes: ['blobs:read', 'blobs:write'] } } });
    expect(await authorize({ authorization: token })).toMatchObject({ outcome: 'allow' });
  });

  it('accepts a Cognito access token whose client_id is the audience', async () => {
    const token = await issuer.sign({ sub: 'user-2', client_id: 'image-labeling' });
    expect(await authorize({ authorization: `Bearer ${token}` })).toMatchObject({ outcome: 'allow' });
  });

  it('refuses a wrong audience, an expired token, a foreign signature, another issuer, garbage and no token', async () => {
    const refused = [
      await issuer.sign({ sub: 'u' }, { audience: 'another-api' }),
      await issuer.sign({ sub: 'u' }),
      await issuer.sign({ sub: 'u' }, { audience: 'image-labeling', expiresIn: Math.floor(Date.now() / 1000) - 60 }),
      await issuer.sign({ sub: 'u' }, { audience: 'image-labeling', foreignKey: true }),
      await issuer.sign({ sub: 'u' }, { audience: 'image-labeling', issuer: 'https://elsewhere.example' }),
      'not.a.jwt',
    ];
    for (const token of refused) expect(await authorize({ authorization: `Bearer ${token}` }), token).toEqual({ outcome: 'unauthorized' });
    expect(await authorize({})).toEqual({ outcome: 'unauthorized' });
  });
});
