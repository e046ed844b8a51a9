// The HTTP API Lambda authorizer of AuthMode ApiKey (payload 2.0, simple responses).
//
// It allows every request it sees and says in its context whether the key was valid; the
// functions answer 401 problem+json when it was not (shared/http/caller.ts). A plain deny
// would make API Gateway answer 403 {"message":"Forbidden"}, which is neither the 401 nor the
// problem+json the contract promises, and HTTP APIs have no gateway responses to change it.
// Malformed, unknown and revoked keys get the same context, so the answer never tells whether
// a key exists. API Gateway caches the verdict per Authorization header (ApiKeyCacheTtlSeconds).
import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda';
import { bearerToken } from '../shared/auth/api-keys.ts';
import { ApiKeyStore } from '../shared/auth/api-key-store.ts';
import { dynamoDb } from '../shared/aws/dynamodb.ts';
import { apiKeysTable } from '../shared/config.ts';
import type { ApiKeyAuthorizerContext } from '../shared/http/caller.ts';
import { logger } from '../shared/logger.ts';

let store: ApiKeyStore | undefined;

export async function handler(
  event: APIGatewayRequestAuthorizerEventV2,
): Promise<APIGatewaySimpleAuthorizerWithContextResult<ApiKeyAuthorizerContext>> {
  store ??= new ApiKeyStore(dynamoDb(), apiKeysTable());
  const token = bearerToken(event.identitySource?.[0] ?? event.headers?.authorization);
  const key = token ? await store.verify(token) : undefined;
  if (!key) {
    logger.info('API key refused', { route: event.routeKey });
    return { isAuthorized: true, context: { authenticated: false } };
  }
  logger.info('API key accepted', { route: event.routeKey, key_id: key.key_id, owner: key.owner });
  return { isAuthorized: true, context: { authenticated: true, owner: key.owner, key_id: key.key_id } };
}
