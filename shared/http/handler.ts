// One line per HTTP function: the business logic plus the shared middleware stack.
import middy from '@middy/core';
import validator from '@middy/validator';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { ValidateFunction } from 'ajv';
import { logger } from '../logger.ts';
import { authenticatedCaller, jsonBody, problemErrors } from './middlewares.ts';
import type { HttpResponse } from './responses.ts';

/** The request as the handler sees it: the body parsed, everything validated against openapi.yaml. */
export type HttpEvent<Body = never, Path = Record<string, string>> = Omit<
  APIGatewayProxyEventV2,
  'body' | 'pathParameters'
> & { body?: Body; pathParameters: Path };

const ONE_MEGABYTE = 1024 * 1024;

export function httpHandler<Body, Path>(
  businessLogic: (event: HttpEvent<Body, Path>, context: Context) => Promise<HttpResponse>,
  options: { requestSchema?: ValidateFunction } = {},
) {
  const handler = middy<APIGatewayProxyEventV2, HttpResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(problemErrors())
    .use(authenticatedCaller())
    .use(jsonBody({ maxBytes: ONE_MEGABYTE }));
  if (options.requestSchema) handler.use(validator({ eventSchema: options.requestSchema }));
  return handler.handler(businessLogic as unknown as (event: APIGatewayProxyEventV2, context: Context) => Promise<HttpResponse>);
}
