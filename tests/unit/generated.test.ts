// events/schemas/ and openapi.yaml's components.schemas are generated from the zod definitions
// (shared/blob/events.ts, shared/http/resources.ts) and committed, because consumers read
// them; the input validators the functions run (shared/generated/inputs/, from
// shared/lambda/inputs.ts) are generated on install and not committed. A definition changed
// without `npm run generate` fails here, naming the file.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPENAPI_BEGIN, OPENAPI_END, renderEventSchemas, renderOpenApi } from '../../scripts/contract.ts';
import { renderInputValidators } from '../../scripts/inputs.ts';
import { z } from 'zod';
import { BlobLabeled, blobEvent } from '../../shared/blob/events.ts';
import { projectRoot } from '../support/template.ts';

const hint = 'out of date: run `npm run generate` and commit the result';

describe('generated files are in step with their definitions', () => {
  const rendered = renderEventSchemas();

  it.each([...rendered.keys()])('events/schemas/%s', (file) => {
    expect(readFileSync(`${projectRoot}events/schemas/${file}`, 'utf8'), `events/schemas/${file} is ${hint}`).toBe(rendered.get(file));
  });

  it('events/schemas/ holds nothing that is not generated', () => {
    expect(readdirSync(`${projectRoot}events/schemas/`).sort()).toEqual([...rendered.keys()].sort());
  });

  it("openapi.yaml's components.schemas", () => {
    const current = readFileSync(`${projectRoot}openapi.yaml`, 'utf8');
    expect(current, `openapi.yaml is ${hint}`).toBe(renderOpenApi(current));
  });

  const inputValidators = renderInputValidators();

  it.each([...inputValidators.keys()])('shared/generated/%s (what the functions parse their inputs with)', (file) => {
    expect(readFileSync(`${projectRoot}shared/generated/${file}`, 'utf8'), `shared/generated/${file} is out of date: run \`npm run generate\``).toBe(
      inputValidators.get(file),
    );
  });

  it('shared/generated/inputs/ holds nothing that is not generated', () => {
    const rendered = [...inputValidators.keys()].filter((file) => file.startsWith('inputs/')).map((file) => file.slice('inputs/'.length));
    expect(readdirSync(`${projectRoot}shared/generated/inputs/`).sort()).toEqual(rendered.sort());
  });

  it('notices a changed definition (the check can fail)', () => {
    const current = readFileSync(`${projectRoot}openapi.yaml`, 'utf8');
    const begin = current.indexOf(OPENAPI_BEGIN);
    const edited = current.slice(0, begin) + current.slice(begin).replace('    Blob:\n', '    Blob:\n      deprecated: true\n');
    expect(edited).not.toBe(current);
    expect(renderOpenApi(edited)).toBe(current);
    expect(current.indexOf(OPENAPI_END)).toBeGreaterThan(begin);
  });
});

describe('the event definitions parse what their schemas describe', () => {
  const labeled = JSON.parse(readFileSync(`${projectRoot}events/samples/send-callback.blob-labeled.json`, 'utf8')).detail;

  it('takes a current BlobLabeled, and a version 1 one without the callback_url it did not have yet', () => {
    expect(BlobLabeled.parse(labeled)).toEqual(labeled);
    const { callback_url: _url, ...data } = labeled.data;
    expect(BlobLabeled.parse({ ...labeled, schema_version: 1, data })).toEqual({ ...labeled, schema_version: 1, data });
  });

  it('refuses what the published schema refuses', () => {
    const issues = (value: unknown) =>
      (BlobLabeled.safeParse(value).error?.issues ?? []).map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('\n');
    expect(issues(labeled)).toBe('');
    expect(issues({ ...labeled, schema_version: 1 })).toMatch(/^data: Unrecognized key: "callback_url" \(schema_version 1\)$/);
    expect(issues({ ...labeled, schema_version: 99 })).toMatch(/^schema_version: /);
    expect(issues({ ...labeled, data: { ...labeled.data, labels_count: 5 } })).toMatch(/^data: Unrecognized key: "labels_count"$/);
    expect(issues({ ...labeled, tenant: 'acme' })).toMatch(/^: Unrecognized key: "tenant"$/);
    expect(issues({ ...labeled, version: '3' })).toMatch(/^version: /);
    expect(issues({ ...labeled, occurred_at: '24/11/2026' })).toMatch(/^occurred_at: /);
  });
});

describe('a new schema_version may only add optional fields (no upcaster needed)', () => {
  const v1 = z.strictObject({ size: z.int() });
  const define = (v2: z.ZodObject) =>
    blobEvent('BlobTried', { description: 'A test.', position: z.int(), occurredAt: 'When.', versions: [{ data: v1 }, { data: v2, change: 'changed it' }] });

  it('accepts an optional addition, reads both versions, and refuses the new field in version 1', () => {
    const tried = define(v1.extend({ colour: z.string().optional() }));
    const event = { blob_id: '01M87ARFEB9P1S7007NF10H0R4', version: 2, type: 'BlobTried', occurred_at: '2026-11-24T17:48:18.763Z' };
    expect(tried.parse({ ...event, schema_version: 1, data: { size: 1 } })).toMatchObject({ schema_version: 1 });
    expect(tried.parse({ ...event, schema_version: 2, data: { size: 1, colour: 'red' } })).toMatchObject({ schema_version: 2 });
    expect(tried.safeParse({ ...event, schema_version: 1, data: { size: 1, colour: 'red' } }).success).toBe(false);
    expect(tried.currentSchemaVersion).toBe(2);
  });

  it.each([
    ['a required addition', v1.extend({ colour: z.string() }), /data\.colour differs/],
    ['a changed field', z.strictObject({ size: z.string() }), /data\.size differs/],
    ['a dropped field', z.strictObject({}), /drops data\.size/],
  ])('refuses %s at definition', (_name, v2, message) => {
    expect(() => define(v2)).toThrow(message);
  });
});
