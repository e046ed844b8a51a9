// The shapes Lambda hands a function, parsed with the validators `npm run generate` compiles from
// the input definitions (shared/lambda/inputs.ts): Ajv standalone code, no zod at run time (zod
// and the definitions built at module load cost each function 58-96 KB and ~45 ms of import,
// bench/README.md). A failure says where and what, as zod's issues did.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { validate as envelope } from '../generated/inputs/eventBridgeEvent.js';
import type { EventBridgeEvent } from './inputs.ts';

/** A generated validator (shared/generated/inputs/<name>.js): what it lets through is a `T`. */
export interface Validator<T> {
  (data: unknown): data is T;
  errors?: readonly ValidationError[] | null;
}

/** What an Ajv error holds that the issues are made of (Ajv's own type has `any` parameters). */
export interface ValidationError {
  instancePath: string;
  keyword: string;
  params: Readonly<Record<string, unknown>>;
}

/** One thing wrong with an input: where (object keys and array indexes from the top), and what. */
export interface ParseIssue {
  path: string[];
  message: string;
}

export class ParseError extends Error {
  override readonly name = 'ParseError';
  constructor(readonly issues: readonly ParseIssue[]) {
    super(issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(the input)'}: ${issue.message}`).join('; '));
  }
}

export type Parsed<T> = { success: true; data: T; error?: undefined } | { success: false; data?: undefined; error: ParseError };

export interface Parser<T> {
  safeParse(input: unknown): Parsed<T>;
  /** The input as a `T`, or a thrown ParseError. */
  parse(input: unknown): T;
}

function parser<T>(safeParse: (input: unknown) => Parsed<T>): Parser<T> {
  return {
    safeParse,
    parse(input) {
      const parsed = safeParse(input);
      if (!parsed.success) throw parsed.error;
      return parsed.data;
    },
  };
}

const failure = (message: string): { success: false; error: ParseError } => ({ success: false, error: new ParseError([{ path: [], message }]) });

/** An input checked by a generated validator. */
export function validated<T>(validate: Validator<T>): Parser<T> {
  return parser((input) =>
    validate(input) ? { success: true, data: input } : { success: false, error: new ParseError(issuesOf(validate.errors ?? [])) },
  );
}

/** An EventBridge event as a rule delivers it to a target (AWS's documented envelope), its detail parsed by `detail`. */
export function eventBridgeEvent<T>(detail: Parser<T>): Parser<EventBridgeEvent<T>> {
  const Envelope = validated(envelope);
  return parser((input) => {
    const outer = Envelope.safeParse(input);
    if (!outer.success) return outer;
    const inner = detail.safeParse(outer.data.detail);
    if (!inner.success) return { success: false, error: new ParseError(inner.error.issues.map((issue) => ({ ...issue, path: ['detail', ...issue.path] }))) };
    return { success: true, data: { ...outer.data, detail: inner.data } };
  });
}

/** A JSON document in a string (an SQS message's body), then `inner`. */
export function jsonString<T>(inner: Parser<T>): Parser<T> {
  return parser((input) => {
    if (typeof input !== 'string') return failure('not a string');
    let document: unknown;
    try {
      document = JSON.parse(input);
    } catch {
      return failure('not a JSON document');
    }
    return inner.safeParse(document);
  });
}

/** A DynamoDB item in its wire form (a stream record's NewImage), unmarshalled, then `inner`. */
export function dynamoDBItem<T>(inner: Parser<T>): Parser<T> {
  return parser((input) => {
    if (!isObject(input) || !Object.values(input).every(isObject)) return failure('not a DynamoDB item in its wire form');
    let item: unknown;
    try {
      item = unmarshall(input as Record<string, AttributeValue>);
    } catch {
      return failure('not a DynamoDB item in its wire form');
    }
    return inner.safeParse(item);
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Ajv's errors as issues. The validators are generated without Ajv's messages (each would be a
 * string in every bundle), so they are said here from the keyword and its parameters. An `if`'s
 * "must match then" is left out: its `then` reports what is wrong.
 */
function issuesOf(errors: readonly ValidationError[]): ParseIssue[] {
  return errors.filter((error) => error.keyword !== 'if').map((error) => {
    const path = error.instancePath === '' ? [] : error.instancePath.slice(1).split('/').map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
    const { params } = error;
    switch (error.keyword) {
      case 'type':
        return { path, message: `must be ${String(params.type)}` };
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        return { path, message: `must be ${String(params.comparison)} ${String(params.limit)}` };
      case 'minLength':
        return { path, message: params.limit === 1 ? 'must not be empty' : `must have at least ${String(params.limit)} characters` };
      case 'maxLength':
        return { path, message: `must have at most ${String(params.limit)} characters` };
      case 'minItems':
      case 'maxItems':
        return { path, message: `must have ${error.keyword === 'minItems' ? 'at least' : 'at most'} ${String(params.limit)} items` };
      case 'pattern':
        return { path, message: `must match ${String(params.pattern)}` };
      case 'format':
        return { path, message: `must be: ${String(params.format)}` };
      case 'required':
        return { path: [...path, String(params.missingProperty)], message: 'required' };
      case 'additionalProperties':
        return { path, message: `unrecognized key ${JSON.stringify(params.additionalProperty)}` };
      case 'false schema':
        return { path, message: 'not allowed: a field this schema_version does not have' };
      case 'enum':
        return { path, message: `must be one of ${(params.allowedValues as unknown[]).map((value) => JSON.stringify(value)).join(', ')}` };
      case 'const':
        return { path, message: `must be ${JSON.stringify(params.allowedValue)}` };
      case 'discriminator':
        return {
          path: [...path, String(params.tag)],
          message: params.error === 'tag' ? 'required, a string' : `${JSON.stringify(params.tagValue)} is none of the types this input may be`,
        };
      default:
        return { path, message: `fails ${error.keyword} ${JSON.stringify(params)}` };
    }
  });
}
