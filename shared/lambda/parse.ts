// The shapes Lambda hands a function, for parsing its input with the product's schemas.
// Powertools' parser has these (DynamoDBMarshalled, JSONStringified, EventBridgeSchema), but it
// imports `{ z } from 'zod'`, a namespace esbuild cannot shake: each function using one bundled
// all of zod with its ~50 locales (+385 KB minified, measured 2026-12-05 with the template's
// esbuild settings). Written against `import * as z`, esbuild keeps only what is used.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';

/** A JSON document in a string (an SQS message's body), then `schema`. */
export function jsonString<T extends z.ZodType>(schema: T) {
  return z
    .string()
    .transform((text, ctx): unknown => {
      try {
        return JSON.parse(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not a JSON document' });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

/** A DynamoDB item in its wire form (a stream record's NewImage), unmarshalled, then `schema`. */
export function dynamoDBItem<T extends z.ZodType>(schema: T) {
  return z
    .record(z.string(), z.custom<AttributeValue>((value) => typeof value === 'object' && value !== null))
    .transform((item, ctx): unknown => {
      try {
        return unmarshall(item);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not a DynamoDB item in its wire form' });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

/** An EventBridge event as a rule delivers it to a target (AWS's documented envelope), its detail parsed by `detail`. */
export function eventBridgeEvent<T extends z.ZodType>(detail: T) {
  return z.object({
    version: z.string(),
    id: z.string(),
    'detail-type': z.string(),
    source: z.string(),
    account: z.string(),
    time: z.iso.datetime(),
    region: z.string(),
    resources: z.array(z.string()),
    detail,
    'replay-name': z.string().optional(),
  });
}
