// What template.yaml declares about who may call the API, as the local stack (and SAM) read it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTemplate, readTemplateDocument } from '../../local/template.ts';
import { projectRoot } from '../support/template.ts';

const jwtParameters = { AuthMode: 'Jwt', JwtIssuer: 'https://issuer.example', JwtAudience: 'image-labeling' };

function templateWith(parameters: Record<string, string> = {}, path = `${projectRoot}template.yaml`) {
  return loadTemplate(path, {
    stackName: 'image-labeling',
    region: 'us-east-1',
    accountId: '000000000000',
    parameterOverrides: { CallbackSigningSecret: 'whsec_dGVzdC1zaWduaW5nLXNlY3JldC10ZXN0LXNpZ25pbmc=', ...parameters },
  });
}

describe('template auth', () => {
  it('needs an API key by default: a cached payload 2.0 Lambda authorizer on the Authorization header', () => {
    const template = templateWith();
    expect(template.httpApi.authorizer).toEqual({
      type: 'lambda',
      name: 'ApiKeyAuthorizer',
      function: 'AuthorizeApiKeyFunction',
      payloadFormatVersion: '2.0',
      simpleResponses: true,
      identitySources: ['$request.header.authorization'],
      cacheTtlSeconds: 300,
    });
    const authorizer = template.functions.find((fn) => fn.logicalId === 'AuthorizeApiKeyFunction')!;
    expect(authorizer.environment.API_KEYS_TABLE).toBe(template.tables.find((table) => table.logicalId === 'ApiKeysTable')!.name);
    expect(authorizer.httpRoutes).toEqual([]);
    // Every HTTP function knows the mode, so that it can name (or refuse) its caller.
    for (const fn of template.functions.filter((candidate) => candidate.httpRoutes.length > 0)) expect(fn.environment.AUTH_MODE).toBe('ApiKey');
  });

  it('Jwt mode uses the HTTP API JWT authorizer for the issuer and audience given', () => {
    const template = templateWith(jwtParameters);
    expect(template.httpApi.authorizer).toEqual({
      type: 'jwt',
      name: 'JwtAuthorizer',
      issuer: 'https://issuer.example',
      audience: ['image-labeling'],
      identityHeader: 'authorization',
    });
  });

  it('None mode lets everyone in through an authorizer whose one verdict is cached for an hour', () => {
    const template = templateWith({ AuthMode: 'None' });
    expect(template.httpApi.authorizer).toEqual({
      type: 'lambda',
      name: 'OpenAuthorizer',
      function: 'AuthorizeAnyoneFunction',
      payloadFormatVersion: '2.0',
      simpleResponses: true,
      identitySources: ['$context.stage'],
      cacheTtlSeconds: 3600,
    });
    const open = template.functions.find((fn) => fn.logicalId === 'AuthorizeAnyoneFunction')!;
    expect(open.httpRoutes).toEqual([]);
  });

  it('in every mode GET / (the page) is public and every other route, /blobs above all, is behind the default authorizer', () => {
    for (const parameters of [{ AuthMode: 'ApiKey' }, jwtParameters, { AuthMode: 'None' }]) {
      const template = templateWith(parameters);
      const routes = template.functions.flatMap((fn) => fn.httpRoutes.map((route) => ({ ...route, fn: fn.logicalId })));
      expect(routes.filter((route) => route.authorizer !== undefined)).toEqual([{ method: 'GET', path: '/', authorizer: 'NONE', fn: 'PageFunction' }]);
      const blobRoutes = routes.filter((route) => route.path.startsWith('/blobs'));
      expect(blobRoutes.length).toBeGreaterThanOrEqual(4);
      expect(template.httpApi.authorizer).toBeDefined();
    }
  });

  it('refuses Authorizer NONE on a route of an API without a DefaultAuthorizer, as SAM does', () => {
    const directory = mkdtempSync(join(tmpdir(), 'auth-wiring-'));
    try {
      const path = join(directory, 'template.yaml');
      // None mode as it was before the page was public: no default authorizer at all.
      writeFileSync(path, readFileSync(`${projectRoot}template.yaml`, 'utf8').replace(/None: \{ DefaultAuthorizer: \w+ \}/, "None: { DefaultAuthorizer: '' }"));
      expect(() => templateWith({ AuthMode: 'None' }, path)).toThrow(/PageFunction: GET \/: Authorizer NONE is only valid when the API has a DefaultAuthorizer/);
      expect(() => templateWith({}, path)).not.toThrow();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('throttles each route by the template parameters', () => {
    expect(templateWith().httpApi.throttling).toEqual({ burstLimit: 400, rateLimit: 200 });
    expect(templateWith({ ThrottlingBurstLimit: '5', ThrottlingRateLimit: '2' }).httpApi.throttling).toEqual({ burstLimit: 5, rateLimit: 2 });
  });

  it('lets the authorizer read the keys table and nothing else', () => {
    const document = readTemplateDocument(`${projectRoot}template.yaml`) as { Resources: Record<string, { Properties: { Policies: unknown } }> };
    expect(document.Resources.AuthorizeApiKeyFunction!.Properties.Policies).toEqual([{ DynamoDBReadPolicy: { TableName: { Ref: 'ApiKeysTable' } } }]);
  });
});
