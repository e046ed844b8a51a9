// The middlewares every HTTP handler shares, each one concern, in the order a request meets them.
import type { MiddlewareObj, Request } from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { ErrorObject } from 'ajv';
import { logger } from '../logger.ts';
import { callerOf } from './caller.ts';
import { HttpProblem, type ProblemFieldError } from './problem.ts';
import { problem, type HttpResponse } from './responses.ts';

type HttpRequest = Request<APIGatewayProxyEventV2, HttpResponse, Error, Context>;

// Media types are case-insensitive (RFC 9110, 8.3.1): `Application/JSON` is JSON.
const jsonMediaType = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;
const BODY_PARSER = '@middy/http-json-body-parser';

/**
 * Refuses a caller the deployment's authorizer did not vouch for (401), before the request's
 * body or parameters are looked at, so that an anonymous client learns nothing from them.
 * Every log line of the invocation then names the caller.
 */
export function authenticatedCaller(): MiddlewareObj<APIGatewayProxyEventV2> {
  return {
    before: (request) => {
      logger.appendKeys({ owner: callerOf(request.event).owner });
    },
  };
}

/**
 * Parses a JSON body with @middy/http-json-body-parser, doing first what it does not do the
 * way this API needs: a body is optional (it refuses an absent one), one over the limit is
 * refused before it is parsed, and the media type is matched regardless of case (its own check
 * is case-sensitive, so it is turned off). Its errors, 415 even for malformed JSON, become this
 * API's answers in problemErrors().
 */
export function jsonBody(options: { maxBytes: number }): MiddlewareObj<APIGatewayProxyEventV2> {
  // 6.4.5 reads this option (index.js) but its type declarations do not list it.
  const parserOptions = { disableContentTypeCheck: true, disableContentTypeError: false };
  const parser = httpJsonBodyParser(parserOptions);
  return {
    before: async (request) => {
      const { body, isBase64Encoded, headers } = request.event;
      if (body === undefined || body === '') return;
      const bytes = Buffer.byteLength(body, isBase64Encoded ? 'base64' : 'utf8');
      if (bytes > options.maxBytes) {
        throw new HttpProblem(413, `The request body is ${bytes} bytes; the limit is ${options.maxBytes}.`);
      }
      const contentType = headers['content-type'] ?? '';
      if (!jsonMediaType.test(contentType)) {
        throw new HttpProblem(415, `The request body must be application/json, not "${contentType || 'unspecified'}".`);
      }
      await parser.before?.(request);
    },
  };
}

/** The body parser's failure: the JSON did not parse (it says why in cause.message). */
function isMalformedJson(error: unknown): error is Error & { cause: { message?: string } } {
  return (error as { cause?: { package?: unknown } } | undefined)?.cause?.package === BODY_PARSER;
}

/** Keywords whose failure a parameter's description explains better than Ajv ("must be <= 100"). */
const boundKeywords = new Set(['type', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf']);

/**
 * What a client should read, rather than Ajv's own wording: a regular expression or "one of
 * the allowed values" tells a client less than the contract's own description or the values.
 */
function messageOf(error: ErrorObject, isParameter: boolean): string {
  const description = (error.parentSchema as { description?: unknown } | undefined)?.description;
  if (typeof description === 'string' && (error.keyword === 'pattern' || (isParameter && boundKeywords.has(error.keyword)))) {
    // The first clause of the description says what the value is ("A ULID (...).", "A whole number from 1 to 100; ...").
    const what = description.split(/;|\.(?:\s|$)/)[0]!.trim();
    return `must be ${what.charAt(0).toLowerCase()}${what.slice(1)}`;
  }
  if (error.keyword === 'additionalProperties') return 'is not a known field';
  if (error.keyword === 'type') {
    const types = String(error.params.type).split(',');
    return `must be ${types.map((type) => `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`).join(' or ')}`;
  }
  if (error.keyword === 'enum') return `must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`;
  return error.message ?? 'is invalid';
}

/** Turns what Middy's validator found (Ajv errors on the Lambda event) into field errors. */
export function fieldErrors(errors: readonly ErrorObject[]): ProblemFieldError[] {
  return errors.map((error) => {
    const [, field, ...rest] = error.instancePath.split('/');
    const extra = error.keyword === 'additionalProperties' ? [String(error.params.additionalProperty)] : [];
    const path = [...rest, ...extra];
    const message = messageOf(error, field !== 'body');
    if (field === 'body') {
      return { pointer: `#/${path.join('/')}`, detail: `${path.length ? path.join('.') : 'the body'} ${message}` };
    }
    const parameter = path.join('.') || String(error.params.missingProperty ?? field);
    return { parameter, detail: `${parameter} ${message}` };
  });
}

function isValidationFailure(error: unknown): error is Error & { cause: { data: ErrorObject[] } } {
  const cause = (error as { cause?: { package?: string; data?: unknown } } | undefined)?.cause;
  return cause?.package === '@middy/validator' && Array.isArray(cause.data);
}

/** Every error leaves as application/problem+json; unexpected ones are logged and hidden. */
export function problemErrors(): MiddlewareObj<APIGatewayProxyEventV2, HttpResponse> {
  return {
    onError: (request: HttpRequest) => {
      const { error } = request;
      const instance = request.event.rawPath;
      if (error instanceof HttpProblem) {
        request.response = problem(error.toDocument(instance), error.options.headers);
        return;
      }
      if (isMalformedJson(error)) {
        const detail = `The request body is not valid JSON: ${error.cause.message ?? 'it does not parse'}`;
        request.response = problem(new HttpProblem(400, detail).toDocument(instance));
        return;
      }
      if (isValidationFailure(error)) {
        const errors = fieldErrors(error.cause.data);
        const detail = `The request is invalid: ${errors.map((e) => e.detail).join('; ')}.`;
        request.response = problem(new HttpProblem(400, detail, { errors }).toDocument(instance));
        return;
      }
      logger.error('unhandled error', { error });
      request.response = problem(
        new HttpProblem(500, 'Something failed on our side; the request may be retried.').toDocument(instance),
      );
    },
  };
}
