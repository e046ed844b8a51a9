// The schema registry in template.yaml is generated from events/schemas (scripts/schema-registry.ts):
// it must be what the generator makes of them today (no drift), and each draft-4 schema must
// accept and refuse exactly what events/ itself does.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { readTemplateDocument, type JsonObject } from '../../local/template.ts';
import { registrySchemas, withRegistrySection } from '../../scripts/schema-registry.ts';
import { projectRoot } from '../support/template.ts';

const templatePath = `${projectRoot}template.yaml`;
const schemaDir = `${projectRoot}events/schemas/`;
const sampleDir = `${projectRoot}events/samples/`;
type Event = { 'detail-type': string; source: string; detail: Record<string, unknown> & { data: Record<string, unknown> } };
const readJson = <T = unknown>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

// events/ as consumers load it (2020-12), and the registry's schemas as draft 4.
const ajv2020 = new Ajv2020.default({ strict: true, allErrors: true });
addFormats.default(ajv2020);
for (const file of readdirSync(schemaDir)) ajv2020.addSchema(readJson(`${schemaDir}${file}`) as object);
const envelope = ajv2020.getSchema('https://image-labeling.example/events/envelope.schema.json')!;

const ajv04 = new AjvDraft04.default({ strict: true, allErrors: true });
addFormats.default(ajv04);
ajv04.addKeyword('x-amazon-events-source').addKeyword('x-amazon-events-detail-type');

const template = readTemplateDocument(templatePath);
const resources = template.Resources as Record<string, JsonObject>;
const registered = Object.values(resources)
  .filter((resource) => resource.Type === 'AWS::EventSchemas::Schema')
  .map((resource) => resource.Properties as JsonObject);

function registeredValidator(detailType: string) {
  const properties = registered.find((p) => p.SchemaName === `image-labeling.blobs@${detailType}`);
  if (!properties) throw new Error(`no registry schema for ${detailType}`);
  return ajv04.compile(JSON.parse(String(properties.Content)) as object);
}

/** Every sample blob event, as delivered. */
const samples: Event[] = ['blob-created.json', 'label-blob.blob-uploaded.json', 'send-callback.blob-labeled.json', 'blob-failed.json', 'blob-expired.json'].map(
  (file) => readJson<Event>(`${sampleDir}${file}`),
);

/** Variants of a sample that a schema might get wrong: each must get the same verdict from both. */
function variants(sample: Event): [string, unknown][] {
  const clone = () => structuredClone(sample);
  const list: [string, unknown][] = [['as is', clone()]];
  const noBlobId = clone();
  delete noBlobId.detail.blob_id;
  list.push(['without blob_id', noBlobId]);
  const badId = clone();
  badId.detail.blob_id = 'not-a-ulid';
  list.push(['with a malformed blob_id', badId]);
  const extra = clone();
  extra.detail.data.surprise = true;
  list.push(['with an unknown data field', extra]);
  const unknownVersion = clone();
  unknownVersion.detail.schema_version = 99;
  list.push(['with an unknown schema_version', unknownVersion]);
  const badTime = clone();
  badTime.detail.occurred_at = 'yesterday';
  list.push(['with occurred_at not a date-time', badTime]);
  const withCallback = clone();
  withCallback.detail.data.callback_url = 'https://example.com/hook';
  list.push(['with a callback_url', withCallback]);
  const v1WithCallback = clone();
  v1WithCallback.detail.data.callback_url = 'https://example.com/hook';
  v1WithCallback.detail.schema_version = 1;
  list.push(['at schema_version 1 with a callback_url', v1WithCallback]);
  const replayed = { ...clone(), 'replay-name': 'nightly' };
  list.push(['replayed', replayed]);
  if (Array.isArray(sample.detail.data.labels)) {
    const noName = clone();
    delete (noName.detail.data.labels as Record<string, unknown>[])[0]!.name;
    list.push(['with a label without a name', noName]);
    const tooConfident = clone();
    (tooConfident.detail.data.labels as Record<string, unknown>[])[0]!.confidence = 101;
    list.push(['with a confidence above 100', tooConfident]);
  }
  return list;
}

describe('the schema registry in template.yaml', () => {
  it('is what scripts/schema-registry.ts makes of events/schemas (run npm run generate:schema-registry)', () => {
    const text = readFileSync(templatePath, 'utf8');
    expect(withRegistrySection(text)).toBe(text);
  });

  it('has a registry and one JSONSchemaDraft4 schema per blob event type', () => {
    const types = readdirSync(schemaDir).filter((file) => /^Blob\w+\.schema\.json$/.test(file)).map((file) => file.replace('.schema.json', ''));
    expect(types.length).toBeGreaterThanOrEqual(5);
    expect(registered.map((p) => p.SchemaName).sort()).toEqual(types.map((type) => `image-labeling.blobs@${type}`).sort());
    for (const properties of registered) {
      expect(properties.Type).toBe('JSONSchemaDraft4');
      expect(properties.RegistryName).toEqual({ 'Fn::GetAtt': ['BlobEventSchemaRegistry', 'RegistryName'] });
      expect(String(properties.Description).length).toBeLessThanOrEqual(256);
    }
    expect(Object.values(resources).filter((resource) => resource.Type === 'AWS::EventSchemas::Registry')).toHaveLength(1);
  });

  it.each(samples.flatMap((sample) => variants(sample).map(([name, event]) => [sample['detail-type'], name, event] as const)))(
    '%s %s: the registry schema agrees with events/',
    (detailType, name, event) => {
      const validate = registeredValidator(detailType);
      expect(validate(event)).toBe(envelope(event));
      if (name === 'as is') expect(validate(event)).toBe(true);
      if (name === 'without blob_id') expect(validate(event)).toBe(false);
      // The final events' version 1 had no callback_url (an if/then in events/, an anyOf in draft 4).
      if (name === 'at schema_version 1 with a callback_url' && detailType !== 'BlobCreated') expect(validate(event)).toBe(false);
    },
  );

  it('takes only its own detail-type', () => {
    const [created] = samples;
    expect(registeredValidator('BlobLabeled')(created)).toBe(false);
    expect(registeredValidator('BlobCreated')(created)).toBe(true);
  });

  it('refuses a schema keyword draft 4 cannot express, rather than dropping it', () => {
    const directory = mkdtempSync(join(tmpdir(), 'schemas-'));
    try {
      for (const file of readdirSync(schemaDir)) writeFileSync(join(directory, file), readFileSync(`${schemaDir}${file}`));
      const labeled = readJson<Record<string, unknown> & { properties: Record<string, unknown> }>(`${schemaDir}BlobLabeled.schema.json`);
      labeled.properties.version = { type: 'integer', exclusiveMinimum: 1 };
      writeFileSync(join(directory, 'BlobLabeled.schema.json'), JSON.stringify(labeled));
      expect(() => registrySchemas(directory)).toThrow(/exclusiveMinimum has no draft-4 equivalent/);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
