// The webhook's wiring as template.yaml declares it and the local stack reads it: nothing
// without WebhookEndpoint; with it a rule on the blob bus aimed at an API destination with the
// chosen authorization, a retry policy and a dead-letter queue; and the configurations that
// CloudFormation would refuse (a parameter's constraints, the template's Rules) refused here too.
import { describe, expect, it } from 'vitest';
import { loadTemplate, TemplateError } from '../../local/template.ts';
import { projectRoot } from '../support/template.ts';

const secret = 'whsec_dGVzdC1zaWduaW5nLXNlY3JldC10ZXN0LXNpZ25pbmc=';

function load(webhook: Record<string, string>) {
  return loadTemplate(`${projectRoot}template.yaml`, {
    stackName: 'image-labeling',
    region: 'us-east-1',
    accountId: '000000000000',
    parameterOverrides: { CallbackSigningSecret: secret, ...webhook },
  });
}

const webhookRules = (template: ReturnType<typeof load>) => template.rules.filter((rule) => 'apiDestination' in rule.target);
const apiKey = { WebhookEndpoint: 'http://127.0.0.1:9999/hooks', WebhookApiKeyName: 'x-api-key', WebhookApiKeyValue: 'k-123' };

describe('the webhook in template.yaml', () => {
  it('exists only with a WebhookEndpoint', () => {
    const template = load({});
    expect(webhookRules(template)).toEqual([]);
    expect(template.queues.map((queue) => queue.logicalId)).not.toContain('WebhookDeadLetterQueue');
  });

  it('aims a rule for the final events at an API destination, with the API key, a retry policy and a dead-letter queue', () => {
    const template = load(apiKey);
    const [rule, ...others] = webhookRules(template);
    expect(others).toEqual([]);
    expect(rule!.busName).toBe('image-labeling-blobs');
    expect(rule!.pattern).toEqual({ source: ['image-labeling.blobs'], 'detail-type': ['BlobLabeled', 'BlobFailed', 'BlobExpired'] });
    expect(rule!.maximumRetryAttempts).toBe(185);
    expect(rule!.maximumEventAgeSeconds).toBe(86400);
    const deadLetterQueue = template.queues.find((queue) => queue.logicalId === 'WebhookDeadLetterQueue');
    expect(rule!.deadLetterQueue).toBe(deadLetterQueue?.name);
    expect('apiDestination' in rule!.target && rule!.target.apiDestination).toMatchObject({
      endpoint: 'http://127.0.0.1:9999/hooks',
      httpMethod: 'POST',
      rateLimitPerSecond: 10,
      connection: { authorizationType: 'API_KEY', apiKey: { name: 'x-api-key', value: 'k-123' } },
    });
  });

  it('takes every blob event with WebhookEvents all', () => {
    const [rule] = webhookRules(load({ ...apiKey, WebhookEvents: 'all' }));
    expect(rule!.pattern).toEqual({ source: ['image-labeling.blobs'] });
  });

  it('reads basic and OAuth client-credentials connections, the scope only when given', () => {
    const [basic] = webhookRules(load({ WebhookEndpoint: apiKey.WebhookEndpoint, WebhookAuthorization: 'BASIC', WebhookBasicUser: 'u', WebhookBasicPassword: 'p' }));
    expect('apiDestination' in basic!.target && basic!.target.apiDestination.connection).toEqual({
      authorizationType: 'BASIC',
      basic: { username: 'u', password: 'p' },
    });
    const oauth = {
      WebhookEndpoint: apiKey.WebhookEndpoint,
      WebhookAuthorization: 'OAUTH_CLIENT_CREDENTIALS',
      WebhookOAuthTokenUrl: 'http://127.0.0.1:9998/token',
      WebhookOAuthClientId: 'client',
      WebhookOAuthClientSecret: 'shh',
    };
    const connectionOf = (overrides: Record<string, string>) => {
      const [rule] = webhookRules(load(overrides));
      return 'apiDestination' in rule!.target ? rule!.target.apiDestination.connection : undefined;
    };
    expect(connectionOf(oauth)).toMatchObject({
      authorizationType: 'OAUTH_CLIENT_CREDENTIALS',
      oauth: { tokenUrl: 'http://127.0.0.1:9998/token', clientId: 'client', clientSecret: 'shh', bodyParameters: { grant_type: 'client_credentials' } },
    });
    expect(connectionOf({ ...oauth, WebhookOAuthScope: 'blobs:read' })).toMatchObject({
      oauth: { bodyParameters: { grant_type: 'client_credentials', scope: 'blobs:read' } },
    });
  });

  it.each([
    [{ WebhookEndpoint: 'ftp://example.test/x' }, /parameter WebhookEndpoint: must be empty \(no webhook\) or an absolute http\(s\) URL/],
    [{ WebhookEndpoint: '/hooks' }, /parameter WebhookEndpoint/],
    [{ ...apiKey, WebhookAuthorization: 'NONE' }, /parameter WebhookAuthorization: must be one of API_KEY, BASIC, OAUTH_CLIENT_CREDENTIALS/],
    [{ ...apiKey, WebhookApiKeyValue: '' }, /WebhookAuthorization API_KEY needs WebhookApiKeyName and WebhookApiKeyValue/],
    [{ WebhookEndpoint: apiKey.WebhookEndpoint, WebhookAuthorization: 'BASIC', WebhookBasicUser: 'u' }, /BASIC needs WebhookBasicUser and WebhookBasicPassword/],
    [{ WebhookEndpoint: apiKey.WebhookEndpoint, WebhookAuthorization: 'OAUTH_CLIENT_CREDENTIALS', WebhookOAuthClientId: 'c', WebhookOAuthClientSecret: 's' }, /OAUTH_CLIENT_CREDENTIALS needs WebhookOAuthTokenUrl/],
    [{ ...apiKey, WebhookRateLimitPerSecond: '0' }, /parameter WebhookRateLimitPerSecond: must be at least 1/],
    [{ ...apiKey, WebhookRateLimitPerSecond: 'fast' }, /parameter WebhookRateLimitPerSecond: must be a number/],
  ])('refuses %o as CloudFormation would', (overrides, message) => {
    expect(() => load(overrides)).toThrow(TemplateError);
    expect(() => load(overrides)).toThrow(message);
  });

  it('does not show a NoEcho value in a refusal', () => {
    expect(() => load({ CallbackSigningSecret: 'not-a-secret-of-the-right-shape' })).toThrow(/got a hidden value/);
  });

  it('lets secrets of another authorization type stay empty', () => {
    expect(() => load({ ...apiKey, WebhookBasicUser: '' })).not.toThrow();
  });
});
