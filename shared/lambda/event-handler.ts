// The Middy stack of every event-driven function (rules, schedules, the pipe's
// enrichment): Lambda context and a fresh set of log keys per invocation.
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { logger } from '../logger.ts';

export function eventHandler<Event, Result>(businessLogic: (event: Event, context: Context) => Promise<Result>) {
  return middy(businessLogic).use(injectLambdaContext(logger, { resetKeys: true }));
}
