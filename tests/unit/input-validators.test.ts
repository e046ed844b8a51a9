// The functions parse their inputs with Ajv validators generated from the zod definitions
// (shared/lambda/inputs.ts, scripts/inputs.ts); the definitions stay the source of the types and
// the published schemas. So the two checkers must take and refuse exactly the same inputs: here
// on every sample of events/samples, and on inputs made from each blob event type by breaking
// it in every place (each field removed, of the wrong type, out of range, in a bad format, an
// unknown field added, every schema_version with every field added since).
import { readdirSync } from 'node:fs';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import type * as z from 'zod';
import { blobEventSchemas } from '../../shared/blob/events.ts';
import { validate as blobEvent } from '../../shared/generated/inputs/blobEvent.js';
import { validate as blobUploaded } from '../../shared/generated/inputs/blobUploaded.js';
import { validate as envelope } from '../../shared/generated/inputs/eventBridgeEvent.js';
import { inputs, queuedInputs } from '../../shared/lambda/inputs.ts';
import { eventBridgeEvent, validated, type Parser } from '../../shared/lambda/parse.ts';
import { projectRoot } from '../support/template.ts';
import { sample } from '../support/lambda.ts';

type Json = Record<string, unknown>;

/** Each input: its zod definition, and what the functions parse it with. */
const checkers = {
  blobEvent: [inputs.blobEvent, validated(blobEvent)],
  blobUploaded: [inputs.blobUploaded, validated(blobUploaded)],
  eventBridgeEvent: [inputs.eventBridgeEvent, validated(envelope)],
  queuedBlobEvent: [queuedInputs.queuedBlobEvent, eventBridgeEvent(validated(blobEvent))],
  queuedBlobUploaded: [queuedInputs.queuedBlobUploaded, eventBridgeEvent(validated(blobUploaded))],
} satisfies Record<string, [z.ZodType, Parser<unknown>]>;
type CheckerName = keyof typeof checkers;
const takes = (name: CheckerName, value: unknown) => checkers[name][1].safeParse(value).success;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Everything in a sample that one of the inputs could be: envelopes (also as queue bodies), their details, stream images. */
function candidatesIn(value: unknown, found: unknown[] = []): unknown[] {
  if (Array.isArray(value)) {
    for (const item of value) candidatesIn(item, found);
  } else if (isObject(value)) {
    if ('detail-type' in value || 'blob_id' in value) found.push(value);
    if (isObject(value.NewImage)) found.push(unmarshall(value.NewImage as Record<string, AttributeValue>));
    for (const [key, child] of Object.entries(value)) {
      if (key === 'body' && typeof child === 'string') candidatesIn(JSON.parse(child), found);
      else if (key !== 'NewImage') candidatesIn(child, found);
    }
  }
  return found;
}

const sampleFiles = readdirSync(`${projectRoot}events/samples/`).filter((file) => file.endsWith('.json'));
const candidates = sampleFiles.flatMap((file) => candidatesIn(sample(file)).map((value, index) => ({ what: `${file} #${index}`, value })));

/** The blob events of the samples, one per type (the newest schema_version found). */
const eventsByType = new Map<string, Json>();
const envelopeOf = new Map<string, Json>();
for (const { value } of candidates) {
  const event = isObject(value) && 'detail-type' in value ? value.detail : value;
  if (!isObject(event) || typeof event.type !== 'string') continue;
  if (Number(event.schema_version) >= Number(eventsByType.get(event.type)?.schema_version ?? 0)) eventsByType.set(event.type, event);
  if (isObject(value) && 'detail-type' in value) envelopeOf.set(event.type, value);
}

const clone = <T>(value: T): T => structuredClone(value);

/** Every place in a value: the path to each field or item, the value's own place first. */
function placesOf(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  const children = Array.isArray(value) ? value.map((_, index) => index) : isObject(value) ? Object.keys(value) : [];
  return [path, ...children.flatMap((key) => placesOf((value as Json)[key as string], [...path, key]))];
}

function at(value: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>((node, key) => (node as Json | undefined)?.[key as string], value);
}

/** A copy of `value` with what is at `path` changed (`remove`: taken out). */
function changed(value: Json, path: readonly (string | number)[], to: unknown, remove = false): Json {
  const copy = clone(value);
  const parent = at(copy, path.slice(0, -1)) as Json;
  const key = path[path.length - 1] as string;
  if (remove && Array.isArray(parent)) parent.splice(Number(key), 1);
  else if (remove) delete parent[key];
  else parent[key] = to;
  return copy;
}

const wrongValues: unknown[] = [null, true, 0, -1, 1.5, 101, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, '', 'x', '7', [], {}, ['x']];

/** Strings in the formats the definitions check, and near misses of them. */
const formattedStrings = [
  // timestamps (z.iso.datetime, with and without an offset)
  '2026-11-24T17:48:18.763Z', '2026-11-24T17:48:18Z', '2026-11-24T17:48:18.763+01:00', '2026-11-24T17:48:18+0100',
  '2026-11-24T17:48Z', '2026-11-24 17:48:18Z', '2026-11-24t17:48:18z', '2026-11-24T17:48:18', '2026-02-29T00:00:00Z',
  '2028-02-29T00:00:00Z', '2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-11-24T24:00:00Z', '2026-11-24T23:59:60Z',
  '24/11/2026', '2026-11-24', '+012026-11-24T17:48:18Z',
  // URLs (z.url())
  'https://example.com/hooks/labels', 'http://127.0.0.1:8080/x?y=1#z', ' https://example.com/padded ', 'https://exa mple.com/',
  'https://example.com/a b', 'https://exa\tmple.com/', 'mailto:someone@example.com', 'urn:isbn:0451450523', 'example.com/hooks',
  '//example.com/x', 'http://', 'http://[::1]/', 'http://[::1/', 'ftp://example.com/file', 'not a url',
  // ULIDs, content types, failure codes, model names
  '01M87ARFEB9P1S7007NF10H0R4', '01m87arfeb9p1s7007nf10h0r4', '01M87ARFEB9P1S7007NF10H0RU', '01M87ARFEB9P1S7007NF10H0R',
  'image/jpeg', 'image/png', 'image/gif', 'IMAGE/JPEG', 'LABELING_FAILED', 'labeling_failed', 'uploads/01M87ARFEB9P1S7007NF10H0R4',
];

/** Inputs made from one event by breaking it in every place. */
function brokenVariants(event: Json): { what: string; value: Json }[] {
  const variants: { what: string; value: Json }[] = [];
  for (const path of placesOf(event)) {
    const where = path.join('.') || '(the event)';
    if (path.length > 0) variants.push({ what: `${where} removed`, value: changed(event, path, undefined, true) });
    const current = at(event, path);
    if (path.length > 0) {
      for (const wrong of wrongValues) variants.push({ what: `${where} = ${String(wrong)}`, value: changed(event, path, wrong) });
      if (typeof current === 'string') {
        for (const text of formattedStrings) variants.push({ what: `${where} = ${JSON.stringify(text)}`, value: changed(event, path, text) });
      }
    }
    if (isObject(current)) {
      variants.push({ what: `${where} with an unknown field`, value: changed(event, [...path, 'unexpected'], 1) });
      if (path.length === 0) variants.push({ what: 'with an unknown field', value: { ...event, unexpected: 1 } });
    }
  }
  return variants;
}

/** Every schema_version, with and without every optional field of data (with a good value). */
function versionVariants(event: Json): { what: string; value: Json }[] {
  const optional = { owner: 'alice', callback_url: 'https://example.com/hooks/labels', etag: '"abc"' };
  const data = event.data as Json;
  const bare = Object.fromEntries(Object.entries(data).filter(([key]) => !(key in optional)));
  const variants: { what: string; value: Json }[] = [];
  for (const schemaVersion of [0, 1, 2, 3]) {
    const fields = Object.entries(optional);
    for (let mask = 0; mask < 2 ** fields.length; mask++) {
      const added = Object.fromEntries(fields.filter((_, index) => mask & (1 << index)));
      variants.push({
        what: `schema_version ${schemaVersion} with data.${Object.keys(added).join(', data.') || '(none of the optional fields)'}`,
        value: { ...event, schema_version: schemaVersion, data: { ...bare, ...added } },
      });
    }
  }
  return variants;
}

/** What the two checkers say about each input, where they differ. */
function disagreements(name: CheckerName, cases: readonly { what: string; value: unknown }[]) {
  const definition: z.ZodType = checkers[name][0];
  return cases.flatMap(({ what, value }) => {
    const byZod = definition.safeParse(value).success;
    const byAjv = takes(name, value);
    return byZod === byAjv ? [] : [`${what}: zod ${byZod ? 'takes' : 'refuses'} it, the generated validator ${byAjv ? 'takes' : 'refuses'} it`];
  });
}

function tally(name: CheckerName, cases: readonly { value: unknown }[]) {
  const taken = cases.filter(({ value }) => takes(name, value)).length;
  return { taken, refused: cases.length - taken };
}

describe('the generated validators take and refuse what the zod definitions do', () => {
  it('has a sample of every event type to break', () => {
    expect([...eventsByType.keys()].sort()).toEqual(blobEventSchemas.map((schema) => schema.eventType).sort());
  });

  it('covers every generated input', () => {
    expect(Object.keys(inputs).every((name) => name in checkers)).toBe(true);
  });

  it.each(Object.keys(checkers) as CheckerName[])('%s, on everything in events/samples', (name) => {
    expect(candidates.length).toBeGreaterThan(10);
    expect(disagreements(name, candidates)).toEqual([]);
    expect(tally(name, candidates).taken).toBeGreaterThan(0);
  });

  describe.each([...eventsByType.keys()])('%s, broken in every place', (type) => {
    const event = eventsByType.get(type)!;
    const broken = [...brokenVariants(event), ...versionVariants(event)];
    const envelope = envelopeOf.get(type)!;
    const queued = broken.map(({ what, value }) => ({ what, value: { ...envelope, detail: value } }));
    const envelopeBroken = brokenVariants(envelope).filter(({ what }) => !what.startsWith('detail.'));

    it('as a blob event (the log, the stream, a queued detail)', () => {
      expect(disagreements('blobEvent', broken)).toEqual([]);
      expect(disagreements('blobUploaded', broken)).toEqual([]);
      // Both outcomes are exercised: each type has inputs taken and inputs refused.
      expect(tally('blobEvent', broken)).toEqual({ taken: expect.any(Number), refused: expect.any(Number) });
      expect(Math.min(...Object.values(tally('blobEvent', broken)))).toBeGreaterThan(5);
    });

    it('as a queued event (the projection and callback queues, and the labeling queue)', () => {
      for (const name of ['eventBridgeEvent', 'queuedBlobEvent', 'queuedBlobUploaded'] as const) {
        expect(disagreements(name, queued)).toEqual([]);
        expect(disagreements(name, envelopeBroken)).toEqual([]);
      }
      expect(tally('queuedBlobEvent', envelopeBroken).refused).toBeGreaterThan(5);
      expect(tally('queuedBlobEvent', envelopeBroken).taken).toBeGreaterThan(5);
    });
  });
});
