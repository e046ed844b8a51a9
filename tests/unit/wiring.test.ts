// template.yaml, openapi.yaml and functions/ must agree: a route without a handler, a rule
// aimed at nothing or an operation nobody serves would only show up after a deploy.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { matchesEventPattern } from '../../local/eventbridge/pattern-matcher.ts';
import { dynamicValue } from '../../local/eventbridge/pipe.ts';
import { loadTemplate, readTemplateDocument } from '../../local/template.ts';
import { decideCreate, decideExpire, decideLabelingResult, decideLabelingTimeout, decideUpload } from '../../shared/blob/decisions.ts';
import { BLOB_EVENT_SOURCE, type BlobEvent } from '../../shared/blob/events.ts';
import { evolve, type BlobState } from '../../shared/blob/state.ts';
import { loadTestTemplate, projectRoot, ruleReaching } from '../support/template.ts';

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

  it('routes nothing that the contract does not describe, except the catch-all and the web page', () => {
    for (const route of routes) {
      const described = operations.some((op) => op.method === route.method && op.path === route.path);
      const page = route.method === 'GET' && route.path === '/' && route.fn.logicalId === 'PageFunction';
      expect(described || page || route.method === 'ANY', `${route.method} ${route.path}`).toBe(true);
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

  it('aims every rule at a function, a queue or an API destination, and a bus, that exist', () => {
    expect(template.rules.length).toBeGreaterThan(0);
    for (const rule of template.rules) {
      expect(template.buses).toContain(rule.busName);
      if ('function' in rule.target) expect(template.functions.map((fn) => fn.logicalId)).toContain(rule.target.function);
      else if ('queue' in rule.target) expect(template.queues.map((queue) => queue.name)).toContain(rule.target.queue);
      else expect(rule.target.apiDestination.endpoint).toMatch(/^https?:\/\//);
      if (rule.deadLetterQueue) expect(template.queues.map((queue) => queue.name)).toContain(rule.deadLetterQueue);
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

  it("names each published event by its type, read from the pipe's source record (as Pipes reads dynamic parameters)", () => {
    const [pipe] = template.pipes;
    const records = JSON.parse(readFileSync(`${projectRoot}events/samples/publish-blob-events.stream-records.json`, 'utf8')) as {
      dynamodb: { NewImage: { type: { S: string } } };
    }[];
    expect(pipe!.batchSize).toBe(1);
    for (const record of records) expect(dynamicValue(pipe!.detailType, record)).toBe(record.dynamodb.NewImage.type.S);
    expect(dynamicValue(pipe!.source, records[0])).toBe(BLOB_EVENT_SOURCE);
  });

  it('refuses an enriched pipe that would take dynamic parameters from a batch of several records', () => {
    const original = readFileSync(`${projectRoot}template.yaml`, 'utf8');
    const batched = original.replace(/BatchSize: 1\n(\s+)ParallelizationFactor/, 'BatchSize: 10\n$1ParallelizationFactor');
    expect(batched).not.toBe(original);
    const directory = mkdtempSync(join(tmpdir(), 'template-'));
    try {
      writeFileSync(join(directory, 'template.yaml'), batched);
      const options = { stackName: 's', region: 'us-east-1', accountId: '000000000000', parameterOverrides: { CallbackSigningSecret: 'whsec_dGVzdC1zaWduaW5nLXNlY3JldC10ZXN0LXNpZ25pbmc=' } };
      expect(() => loadTemplate(join(directory, 'template.yaml'), options)).toThrow(/dynamic target parameters with an enrichment need BatchSize 1/);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('subscribes the labeler to BlobUploaded and the upload recorder to the upload bucket', () => {
    const byId = Object.fromEntries(template.functions.map((fn) => [fn.logicalId, fn]));
    expect(ruleReaching(template, 'LabelBlobFunction').pattern).toMatchObject({ 'detail-type': ['BlobUploaded'] });
    const bucket = template.buckets[0]!;
    expect(bucket.eventBridgeEnabled).toBe(true);
    expect(byId.RecordUploadFunction?.rules[0]?.pattern).toMatchObject({ detail: { bucket: { name: [bucket.name] } } });
  });

  it('projects every blob event into the read model, in batches through a queue with a dead-letter queue', () => {
    const projector = template.functions.find((fn) => fn.logicalId === 'ProjectBlobFunction')!;
    const rule = ruleReaching(template, projector.logicalId);
    expect(rule.pattern).toEqual({ source: ['image-labeling.blobs'] });
    expect(rule.busName).toBe(template.pipes[0]!.targetBus);
    const [source] = projector.queueSources;
    expect(source).toMatchObject({ reportBatchItemFailures: true });
    expect(source!.batchSize).toBeGreaterThan(1);
    const queue = template.queues.find((candidate) => candidate.name === source!.queue)!;
    expect(template.queues.map((candidate) => candidate.name)).toContain(queue.redrive?.deadLetterQueue);
    // AWS's advice for a queue a function polls: a visibility timeout of at least six times the timeout.
    expect(queue.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * projector.timeoutSeconds);
  });

  it('labels through a queue capped at LabelingConcurrency, whose dead letters are recorded as failed labelings', () => {
    const labeler = template.functions.find((fn) => fn.logicalId === 'LabelBlobFunction')!;
    expect(labeler.rules).toEqual([]);
    const [source] = labeler.queueSources;
    expect(source).toMatchObject({ reportBatchItemFailures: true, batchSize: 1, maximumConcurrency: 10 });
    const withFive = loadTemplate(`${projectRoot}template.yaml`, {
      stackName: 'image-labeling',
      region: 'us-east-1',
      accountId: '000000000000',
      parameterOverrides: { CallbackSigningSecret: 'whsec_dGVzdC1zaWduaW5nLXNlY3JldC10ZXN0LXNpZ25pbmc=', LabelingConcurrency: '5' },
    });
    expect(withFive.functions.find((fn) => fn.logicalId === 'LabelBlobFunction')!.queueSources[0]!.maximumConcurrency).toBe(5);
    const queue = template.queues.find((candidate) => candidate.name === source!.queue)!;
    expect(labeler.environment.LABELING_QUEUE_URL).toMatch(new RegExp(`/${queue.name}$`));
    expect(queue.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * labeler.timeoutSeconds);
    expect(queue.redrive!.maxReceiveCount).toBeGreaterThanOrEqual(5);
    const consumer = template.functions.find((fn) => fn.queueSources.some((s) => s.queue === queue.redrive!.deadLetterQueue));
    expect(consumer?.entryPoint).toBe('functions/fail-labeling.ts');
  });

  it('sends callbacks through a queue whose sender puts failures back for later, and keeps what its window did not deliver', () => {
    const sender = template.functions.find((fn) => fn.logicalId === 'SendCallbackFunction')!;
    expect(sender.rules).toEqual([]);
    const [source] = sender.queueSources;
    expect(source).toMatchObject({ reportBatchItemFailures: true });
    const queue = template.queues.find((candidate) => candidate.name === source!.queue)!;
    expect(sender.environment.CALLBACK_QUEUE_URL).toMatch(new RegExp(`/${queue.name}$`));
    // What its window did not deliver goes where a crash-looping message goes: one queue, one alarm.
    expect(sender.environment.CALLBACK_DEAD_LETTER_QUEUE_URL).toMatch(new RegExp(`/${queue.redrive!.deadLetterQueue}$`));
    expect(queue.redrive!.deadLetterQueue).toBe('image-labeling-SendCallbackFailuresQueue');
    expect(queue.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * sender.timeoutSeconds);
    expect(sender.environment).toMatchObject({ CALLBACK_RETRY_WINDOW_SECONDS: '86400', CALLBACK_FIRST_RETRY_SECONDS: '30' });
    const document = readTemplateDocument(`${projectRoot}template.yaml`) as unknown as {
      Parameters: Record<string, { MaxValue: number }>;
      Resources: Record<string, { Properties: Record<string, unknown> }>;
    };
    // Kept longer than the longest retry window (and its last delay), so that no callback still being retried expires.
    const longestWindow = document.Parameters.CallbackRetryWindowSeconds!.MaxValue;
    expect(document.Resources.CallbackQueue!.Properties.MessageRetentionPeriod).toBeGreaterThan(longestWindow + 4 * 3600);
    const policy = JSON.stringify(document.Resources.CallbackQueuePolicy!.Properties);
    expect(policy).toContain('"aws:SourceArn":{"Fn::GetAtt":["CallbackRule","Arn"]}');
  });

  it('gives every asynchronous path a queue for what fails', () => {
    const queues = template.queues.map((queue) => queue.name);
    for (const rule of template.rules) expect(queues, `${rule.name}'s DeadLetterConfig`).toContain(rule.deadLetterQueue);
    for (const fn of template.functions.filter((candidate) => candidate.rules.length > 0)) {
      expect(queues, `${fn.logicalId}'s OnFailure destination`).toContain(fn.asyncInvoke.onFailureQueue);
      expect(fn.asyncInvoke.maximumRetryAttempts).toBe(2);
    }
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

describe('the callback sender gets only the final events of blobs with a callback_url', () => {
  const ruleOf = (functionId: string) => {
    const rule = ruleReaching(template, functionId);
    expect(rule.busName).toBe(template.pipes[0]!.targetBus);
    return rule.pattern;
  };
  const onTheBus = (event: { type: BlobEvent['type'] }) => ({
    version: '0',
    id: '5f3c66ce-fb19-42d9-a141-76e4130b34e1',
    'detail-type': event.type,
    source: BLOB_EVENT_SOURCE,
    account: '000000000000',
    time: '2026-11-24T17:48:22Z',
    region: 'us-east-1',
    resources: [],
    detail: event,
  });

  /** A blob's every event, as the domain decides them, with each way it can end. */
  function lifeOf(callbackUrl: string | undefined) {
    const at = (seconds: number) => new Date(Date.UTC(2026, 10, 24, 17, 48, seconds));
    const blobId = '01M87ARFEB9P1S7007NF10H0R4';
    const upload = { bucket: 'uploads', key: `uploads/${blobId}`, expires_at: at(10).toISOString() };
    const created = decideCreate(blobId, at(0), {
      upload,
      labeling: { max_labels: 20, min_confidence: 50 },
      ...(callbackUrl && { callback_url: callbackUrl }),
    });
    const waiting = evolve(undefined, created)!;
    const uploaded = decideUpload(waiting, at(1), { bucket: upload.bucket, key: upload.key, size_bytes: 10 })!;
    const inProgress: BlobState = evolve(waiting, uploaded)!;
    const image = { width: 451, height: 300, content_type: 'image/png' as const, size_bytes: 10 };
    const finals = [
      decideLabelingResult(inProgress, 2, at(2), { labeled: { labels: [], model: 'test', image } })!,
      decideLabelingResult(inProgress, 2, at(2), { failed: { code: 'IMAGE_TOO_SMALL', message: 'tiny' } })!,
      decideLabelingTimeout(inProgress, at(59), 30)!,
      decideExpire(waiting, at(59), 30)!,
    ];
    expect(finals.map((event) => event.type)).toEqual(['BlobLabeled', 'BlobFailed', 'BlobFailed', 'BlobExpired']);
    return { created, uploaded, finals };
  }
  const withCallback = lifeOf('https://example.com/hooks/labels');
  const withoutCallback = lifeOf(undefined);
  const name = (event: BlobEvent) => `${event.type} v${event.version} (${Object.keys(event.data).join(', ')})`;

  it.each(withCallback.finals.map((event) => [name(event), event] as const))('sends %s', (_name, event) => {
    expect(matchesEventPattern(ruleOf('SendCallbackFunction'), onTheBus(event))).toBe(true);
  });

  it.each(withoutCallback.finals.map((event) => [name(event), event] as const))('leaves out %s, unless it has a callback_url', (_name, event) => {
    expect(matchesEventPattern(ruleOf('SendCallbackFunction'), onTheBus(event))).toBe(false);
    const routed = { ...event, data: { ...event.data, callback_url: 'https://example.com/hooks/labels' } };
    expect(matchesEventPattern(ruleOf('SendCallbackFunction'), onTheBus(routed))).toBe(true);
  });

  it('leaves out the events before the end, the BlobCreated that holds the callback_url too', () => {
    for (const event of [withCallback.created, withCallback.uploaded]) {
      expect(matchesEventPattern(ruleOf('SendCallbackFunction'), onTheBus(event)), event.type).toBe(false);
    }
  });

  it('still labels and projects the blobs without a callback_url', () => {
    for (const life of [withCallback, withoutCallback]) {
      expect(matchesEventPattern(ruleOf('LabelBlobFunction'), onTheBus(life.uploaded))).toBe(true);
      for (const event of [life.created, life.uploaded, ...life.finals]) {
        expect(matchesEventPattern(ruleOf('ProjectBlobFunction'), onTheBus(event)), name(event)).toBe(true);
      }
    }
  });
});
