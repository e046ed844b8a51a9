// One line per HTTP function: the business logic plus the shared middleware stack.
import middy from '@middy/core';
import validator from '@middy/validator';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { operations } from '../generated/openapi.ts';
import type * as requestSchemas from '../generated/validators.js';
import type { OperationValidator } from '../generated/validators.js';
import { logger } from '../logger.ts';
import { authenticatedCaller, jsonBody, problemErrors } from './middlewares.ts';
import type { HttpResponse } from './responses.ts';

/** The API's own operations (a webhook in the contract is sent, not served: it has no validator). */
export type OperationId = keyof operations & keyof typeof requestSchemas;

type Parameters<Op extends OperationId, In extends 'path' | 'query'> = NonNullable<operations[Op]['parameters'][In]>;
type JsonBody<Op extends OperationId> =
  NonNullable<operations[Op]['requestBody']> extends { content: { 'application/json': infer Body } } ? Body : never;

/**
 * The request as an operation's business logic sees it, typed from openapi.yaml: the body
 * parsed and every parameter as the contract declares it (a query integer is a number). The
 * middlewares make it so: the validator checks (and coerces) against the same operation.
 */
export type HttpEvent<Op extends OperationId | null = null> = Omit<
  APIGatewayProxyEventV2,
  'body' | 'pathParameters' | 'queryStringParameters'
> &
  (Op extends OperationId
    ? { body?: JsonBody<Op>; pathParameters: Parameters<Op, 'path'>; queryStringParameters?: Parameters<Op, 'query'> }
    : { body?: unknown; pathParameters?: Record<string, string>; queryStringParameters?: Record<string, string> });

const ONE_MEGABYTE = 1024 * 1024;

/**
 * An operation of openapi.yaml, given by its generated validator
 * (`import { request } from '../shared/generated/operations/getBlob.js'`): its requests are
 * validated against it before the logic runs. Passing the validator itself, not its name,
 * lets each function's bundle keep only its own. `null` for the route fallback, which has no
 * operation to validate against.
 */
export function httpHandler<Op extends OperationId | null>(
  operation: (Op extends OperationId ? OperationValidator<Op> : never) | null,
  businessLogic: (event: HttpEvent<Op>, context: Context) => Promise<HttpResponse>,
) {
  const handler = middy<HttpEvent<Op>, HttpResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(problemErrors())
    .use(authenticatedCaller())
    .use(jsonBody({ maxBytes: ONE_MEGABYTE }));
  if (operation) handler.use(validator({ eventSchema: operation }));
  return handler.handler(businessLogic);
}
