// template.yaml, openapi.yaml and functions/ must agree: a route without a handler, a rule
// aimed at nothing or an operation nobody serves would only show up after a deploy.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadTestTemplate, projectRoot } from '../support/template.ts';

const template = loadTestTemplate();
const openapi = parse(readFileSync(`${projectRoot}openapi.yaml`, 'utf8')) as { paths: Record<string, Record<string, unknown>> };
const operations = Object.entries(openapi.paths).flatMap(([path, item]) =>
  Object.keys(item).map((method) => ({ method: method.toUpperCase(), path })),
);
const routes = template.functions.flatMap((fn) => fn.httpRoutes.map((route) => ({ ...route, fn })));

describe('template, contract and handlers agree', () => {
  it.each(operations)('$method $path is routed to a function', ({ method, path }) => {
    expect(routes.filter((route) => route.method === method && route.path === path)).toHaveLength(1);
  });

  it('routes nothing that the contract does not describe, except the catch-all', () => {
    for (const route of routes) {
      const described = operations.some((op) => op.method === route.method && op.path === route.path);
      expect(described || route.method === 'ANY', `${route.method} ${route.path}`).toBe(true);
    }
    expect(routes.some((route) => route.method === 'ANY' && route.path === '/{proxy+}')).toBe(true);
  });

  it.each(template.functions.map((fn) => [fn.logicalId, fn] as const))(
    '%s has an entry point that exports its handler',
    async (_id, fn) => {
      expect(existsSync(`${projectRoot}${fn.entryPoint}`)).toBe(true);
      // npm start compiles functions/ ahead (local/start.mjs): an entry point elsewhere would be missed.
      expect(fn.entryPoint).toMatch(/^functions\/[^/]+\.ts$/);
      const module = (await import(`${projectRoot}${fn.entryPoint}`)) as Record<string, unknown>;
      expect(typeof module[fn.exportName]).toBe('function');
    },
  );

  it('aims every rule at a function and a bus that exist', () => {
    const rules = template.functions.flatMap((fn) => fn.rules);
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(template.buses).toContain(rule.busName);
      expect(template.functions.map((fn) => fn.logicalId)).toContain(rule.targetFunction);
    }
  });

  it('publishes the event log through a pipe from a streamed table to a bus', () => {
    expect(template.pipes).toHaveLength(1);
    const [pipe] = template.pipes;
    const table = template.tables.find((t) => t.name === pipe!.sourceTable);
    expect(table?.logicalId).toBe('BlobEventsTable');
    expect(table?.streamViewType).toMatch(/NEW_IMAGE/);
    expect(template.buses).toContain(pipe!.targetBus);
    expect(template.functions.map((fn) => fn.logicalId)).toContain(pipe!.enrichmentFunction);
  });

  it('subscribes the labeler to BlobUploaded and the upload recorder to the upload bucket', () => {
    const byId = Object.fromEntries(template.functions.map((fn) => [fn.logicalId, fn]));
    expect(byId.LabelBlobFunction?.rules[0]?.pattern).toMatchObject({ 'detail-type': ['BlobUploaded'] });
    const bucket = template.buckets[0]!;
    expect(bucket.eventBridgeEnabled).toBe(true);
    expect(byId.RecordUploadFunction?.rules[0]?.pattern).toMatchObject({ detail: { bucket: { name: [bucket.name] } } });
  });

  it('projects every blob event into the read model', () => {
    const projector = template.functions.find((fn) => fn.logicalId === 'ProjectBlobFunction');
    expect(projector?.rules[0]?.pattern).toEqual({ source: ['image-labeling.blobs'] });
  });

  it('sweeps for expired blobs on a schedule', () => {
    const expirer = template.functions.find((fn) => fn.logicalId === 'ExpireBlobsFunction');
    expect(expirer?.schedules[0]?.expression).toMatch(/^rate\(/);
  });

  it('gives every function the configuration it reads', () => {
    const tables = template.tables.map((t) => t.name);
    for (const fn of template.functions) {
      expect(tables).toContain(fn.environment.EVENTS_TABLE);
      expect(tables).toContain(fn.environment.READ_MODEL_TABLE);
      expect(fn.environment.EVENTS_TABLE).not.toBe(fn.environment.READ_MODEL_TABLE);
      expect(fn.environment.UPLOAD_BUCKET).toBe(template.buckets[0]!.name);
    }
  });

  it('runs on a current Lambda Node.js runtime', () => {
    const raw = readFileSync(`${projectRoot}template.yaml`, 'utf8');
    const runtimes = [...raw.matchAll(/Runtime:\s*nodejs(\d+)\.x/g)].map((m) => Number(m[1]));
    expect(runtimes.length).toBeGreaterThan(0);
    for (const version of runtimes) expect(version).toBeGreaterThanOrEqual(22);
  });
});
