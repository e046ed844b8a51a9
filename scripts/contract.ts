// Renders what is published from the zod definitions (shared/blob/events.ts and
// shared/http/resources.ts): the JSON Schemas of events/schemas/ and the components.schemas
// block of openapi.yaml. Pure: `npm run generate` writes the result, and
// tests/unit/generated.test.ts fails when the committed files differ from it.
import { z } from 'zod';
import { stringify } from 'yaml';
import { BLOB_EVENT_SOURCE, blobEventSchemas, commonDefinitions } from '../shared/blob/events.ts';
import { openApiRequestSchemas, openApiSchemas } from '../shared/http/resources.ts';

type JsonSchema = Record<string, unknown>;

const SCHEMA_BASE = 'https://image-labeling.example/events/';
const DRAFT = 'https://json-schema.org/draft/2020-12/schema';

/** zod's output, adjusted to read as the contract always has. */
function toJsonSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    unrepresentable: 'throw',
    override: ({ jsonSchema }) => {
      // A reference with its own words (`.describe()` on a shared definition) checks nothing
      // of its own; zod repeats some of the definition's checks beside it.
      if (typeof jsonSchema.$ref === 'string') {
        for (const key of Object.keys(jsonSchema)) {
          if (!['$ref', 'description', 'examples', 'title', 'default'].includes(key)) delete (jsonSchema as JsonSchema)[key];
        }
      }
      // z.int() states the safe-integer range; the contract never did.
      if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
      if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
      // `format: date-time` says it; zod's regular expression restates it unreadably.
      if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
      // Integer literals (a version, a schema_version) are integers.
      const literals = jsonSchema.const !== undefined ? [jsonSchema.const] : jsonSchema.enum;
      if (jsonSchema.type === 'number' && Array.isArray(literals) && literals.every(Number.isInteger)) {
        jsonSchema.type = 'integer';
      }
    },
  }) as JsonSchema;
}

/** Rewrites every `#/$defs/<name>` reference, in place. */
function rewriteRefs(value: unknown, to: (name: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => rewriteRefs(item, to));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [
      key,
      key === '$ref' && typeof child === 'string' && child.startsWith('#/$defs/') ? to(child.slice('#/$defs/'.length)) : rewriteRefs(child, to),
    ]),
  );
}

function idOf(schema: z.ZodType): string {
  const id = schema.meta()?.id;
  if (typeof id !== 'string') throw new Error('a shared definition needs an id (.meta({ id }))');
  return id;
}

/** A schema with an id converts to a $ref to itself plus every definition it uses. */
function definitionsOf(schema: z.ZodType): Record<string, JsonSchema> {
  return (toJsonSchema(schema).$defs ?? {}) as Record<string, JsonSchema>;
}

/** JSON as people format it: a short object or a list of values on one line. */
function formatJson(value: unknown, indent = ''): string {
  const inline = JSON.stringify(value, null, 1).replace(/\n\s*/g, ' ').replace(/\[ /g, '[').replace(/ \]/g, ']');
  const primitive = (child: unknown) => child === null || typeof child !== 'object';
  const flat = (child: unknown) => primitive(child) || (Array.isArray(child) && child.every(primitive));
  const shallow = Array.isArray(value) ? value.every(flat) : Object.values(value as object).every(flat);
  if (value === null || typeof value !== 'object' || (shallow && indent.length + inline.length <= 110)) return inline;
  const inner = `${indent}  `;
  const entries = Array.isArray(value)
    ? value.map((child) => `${inner}${formatJson(child, inner)}`)
    : Object.entries(value).map(([key, child]) => `${inner}${JSON.stringify(key)}: ${formatJson(child, inner)}`);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  return `${open}\n${entries.join(',\n')}\n${indent}${close}`;
}

const leading = ['$schema', '$id', '$ref', 'title', 'type'];
const objectLeading = ['description', 'required', 'additionalProperties'];

/** Keys in the order people write them: what it is, then what it holds. */
function ordered(value: unknown, isMap = false): unknown {
  if (Array.isArray(value)) return value.map((item) => ordered(item));
  if (value === null || typeof value !== 'object') return value;
  // `properties` and `$defs` map names to schemas: their own order is the author's.
  const entries = Object.entries(value).map(([key, child]) => [key, ordered(child, !isMap && (key === 'properties' || key === '$defs'))] as const);
  if (isMap) return Object.fromEntries(entries);
  const first = [...leading, ...((value as JsonSchema).type === 'object' ? objectLeading : [])];
  const rank = (key: string) => (first.includes(key) ? first.indexOf(key) : first.length);
  return Object.fromEntries(entries.sort(([a], [b]) => rank(a) - rank(b)));
}

function file(schema: JsonSchema): string {
  return `${formatJson(ordered(schema))}\n`;
}

function commonSchema(): JsonSchema {
  const defs = Object.fromEntries(commonDefinitions.map((schema) => [idOf(schema), definitionsOf(schema)[idOf(schema)]!]));
  return {
    $schema: DRAFT,
    $id: `${SCHEMA_BASE}common.schema.json`,
    title: 'Blob event building blocks',
    description: 'Definitions shared by the blob event schemas (shared/blob/events.ts). Not an event itself.',
    $defs: defs,
  };
}

function eventSchema(schema: (typeof blobEventSchemas)[number]): JsonSchema {
  const { $schema: _draft, $defs, title, description, ...rest } = toJsonSchema(schema);
  const common = new Set(commonDefinitions.map(idOf));
  for (const name of Object.keys(($defs ?? {}) as object)) {
    if (!common.has(name)) throw new Error(`${schema.eventType} uses ${name}, which is not in commonDefinitions`);
  }
  return {
    $schema: DRAFT,
    $id: `${SCHEMA_BASE}${schema.eventType}.schema.json`,
    title,
    description,
    ...(rewriteRefs(rest, (name) => `common.schema.json#/$defs/${name}`) as JsonSchema),
  };
}

/** The EventBridge event around a blob event: for each detail-type, its detail's schema. */
function envelopeSchema(): JsonSchema {
  const types = blobEventSchemas.map((schema) => schema.eventType);
  const ours = { source: { const: BLOB_EVENT_SOURCE } };
  return {
    $schema: DRAFT,
    $id: `${SCHEMA_BASE}envelope.schema.json`,
    title: 'EventBridge event',
    description: `An event as EventBridge delivers it to a rule's target (e.g. a Lambda function). For blob events (source \`${BLOB_EVENT_SOURCE}\`, on the bus in the stack output BlobEventBusName) \`detail-type\` is the event's type and \`detail\` the blob event itself, as the schema of that type describes it. Open: EventBridge may add fields (e.g. \`replay-name\` on events replayed from an archive).`,
    type: 'object',
    required: ['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail'],
    properties: {
      version: { type: 'string', const: '0' },
      id: {
        type: 'string',
        minLength: 1,
        description:
          "EventBridge's id of this event (a UUID). A redelivery has the same id, a republished event a new one: deduplicate blob events by (detail.blob_id, detail.version), not by id.",
      },
      'detail-type': { type: 'string', minLength: 1 },
      source: { type: 'string', minLength: 1 },
      account: { type: 'string', pattern: '^[0-9]{12}$' },
      time: {
        type: 'string',
        format: 'date-time',
        description: "When EventBridge received the event, to the second. A blob event's own time is detail.occurred_at.",
      },
      region: { type: 'string', minLength: 1, examples: ['us-east-1'] },
      resources: { type: 'array', items: { type: 'string' } },
      detail: { type: 'object' },
      'replay-name': { type: 'string', description: 'Present on events replayed from an archive.' },
    },
    allOf: [
      {
        if: { type: 'object', required: ['source'], properties: ours },
        then: { type: 'object', properties: { 'detail-type': { enum: types } } },
      },
      ...types.map((type) => ({
        if: { type: 'object', required: ['source', 'detail-type'], properties: { ...ours, 'detail-type': { const: type } } },
        then: { type: 'object', properties: { detail: { $ref: `${type}.schema.json` } } },
      })),
    ],
  };
}

/** events/schemas/<file> -> its content. */
export function renderEventSchemas(): Map<string, string> {
  const files = new Map<string, string>([['common.schema.json', file(commonSchema())]]);
  for (const schema of blobEventSchemas) files.set(`${schema.eventType}.schema.json`, file(eventSchema(schema)));
  files.set('envelope.schema.json', file(envelopeSchema()));
  return files;
}

// ---------------------------------------------------------------------------------------------
// openapi.yaml: the generated block sits between two marker lines; the rest is written by hand.

export const OPENAPI_BEGIN = '  # BEGIN GENERATED: components.schemas, from shared/http/resources.ts by `npm run generate`. Do not edit.';
export const OPENAPI_END = '  # END GENERATED';

/** Drops `additionalProperties: false` throughout, in place. */
function opened(value: unknown): unknown {
  if (Array.isArray(value)) value.forEach(opened);
  else if (value !== null && typeof value === 'object') {
    const schema = value as JsonSchema;
    if (schema.additionalProperties === false) delete schema.additionalProperties;
    Object.values(schema).forEach(opened);
  }
  return value;
}

/**
 * Every schema openapi.yaml names, and every definition they use, as components. What the API
 * answers is open (a client must ignore fields it does not know, so that adding one breaks
 * nobody); only request bodies are closed, so that a misspelt field is refused.
 */
function openApiComponents(): Record<string, JsonSchema> {
  const components: Record<string, JsonSchema> = {};
  const requests = new Set(openApiRequestSchemas.map(idOf));
  for (const schema of openApiSchemas) {
    for (const [name, definition] of Object.entries(definitionsOf(schema))) {
      components[name] ??= requests.has(name) ? definition : (opened(definition) as JsonSchema);
    }
  }
  return rewriteRefs(components, (name) => `#/components/schemas/${name}`) as Record<string, JsonSchema>;
}

export function renderOpenApi(current: string): string {
  const begin = current.indexOf(`${OPENAPI_BEGIN}\n`);
  const end = current.indexOf(`${OPENAPI_END}\n`);
  if (begin < 0 || end < begin) throw new Error('openapi.yaml has lost its GENERATED markers');
  const block = stringify({ schemas: ordered(openApiComponents(), true) }, { lineWidth: 0, aliasDuplicateObjects: false })
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => `  ${line}\n`)
    .join('');
  return current.slice(0, begin) + `${OPENAPI_BEGIN}\n` + block + current.slice(end);
}
