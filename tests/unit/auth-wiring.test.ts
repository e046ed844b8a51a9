// What template.yaml declares about who may call the API, as the local stack (and SAM) read it.
import { describe, expect, it } from 'vitest';
import { loadTemplate, readTemplateDocument } from '../../local/template.ts';
import { projectRoot } from '../support/template.ts';

function templateWith(parameters: Record<string, string> = {}) {
  return loadTemplate(`${projectRoot}template.yaml`, {
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
      identityHeaders: ['authorization'],
      cacheTtlSeconds: 300,
    });
    const authorizer = template.functions.find((fn) => fn.logicalId === 'AuthorizeApiKeyFunction')!;
    expect(authorizer.environment.API_KEYS_TABLE).toBe(template.tables.find((table) => table.logicalId === 'ApiKeysTable')!.name);
    expect(authorizer.httpRoutes).toEqual([]);
    // Every HTTP function knows the mode, so that it can name (or refuse) its caller.
    for (const fn of template.functions.filter((candidate) => candidate.httpRoutes.length > 0)) expect(fn.environment.AUTH_MODE).toBe('ApiKey');
  });

  it('Jwt mode uses the HTTP API JWT authorizer for the issuer and audience given', () => {
    const template = templateWith({ AuthMode: 'Jwt', JwtIssuer: 'https://issuer.example', JwtAudience: 'image-labeling' });
    expect(template.httpApi.authorizer).toEqual({
      type: 'jwt',
      name: 'JwtAuthorizer',
      issuer: 'https://issuer.example',
      audience: ['image-labeling'],
      identityHeader: 'authorization',
    });
  });

  it('None mode has no authorizer', () => {
    expect(templateWith({ AuthMode: 'None' }).httpApi.authorizer).toBeUndefined();
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
