// The HTTP API Lambda authorizer of AuthMode None (payload 2.0, simple responses): it allows
// every request. It exists because SAM takes `Authorizer: NONE` on a route (the web page, public
// in every mode) only when the API has a default authorizer; in None mode this is that default.
// The functions name every caller `anonymous` in None mode whatever the context says
// (shared/http/caller.ts), so it passes none. API Gateway caches its verdict (template.yaml).
import type { APIGatewaySimpleAuthorizerResult } from 'aws-lambda';

export async function handler(): Promise<APIGatewaySimpleAuthorizerResult> {
  return { isAuthorized: true };
}
