// events/ is what consumers of the blob bus build on: its schemas must describe what the code
// really publishes, and its samples must be what each consumer really receives.
import { readdirSync, readFileSync } from 'node:fs';
import { marshall } from '@aws-sdk/util-dynamodb';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Context, DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handler as publishBlobEvents } from '../../functions/publish-blob-events.ts';
import { matchesEventPattern } from '../../local/eventbridge/pattern-matcher.ts';
import { decideCreate, decideExpire, decideLabelingResult, decideLabelingTimeout, decideUpload } from '../../shared/blob/decisions.ts';
import {
  BLOB_EVENT_SOURCE,
  blobEventTypes,
  type BlobCreated,
  type BlobEvent,
  type BlobEventType,
  type BlobLabeled,
  type BlobUploaded,
} from '../../shared/blob/events.ts';
import { evolve, type BlobState } from '../../shared/blob/state.ts';
import { loadTestTemplate, projectRoot, ruleReaching } from '../support/template.ts';

const schemaDir = `${projectRoot}events/schemas/`;
const sampleDir = `${projectRoot}events/samples/`;
const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

interface Envelope<Detail = Record<string, unknown>> {
  version: string;
  id: string;
  'detail-type': string;
  source: string;
  time: string;
  resources: string[];
  detail: Detail;
}

// ---------------------------------------------------------------------------------------------
// The schemas, loaded as a consumer would: every file, strict mode, formats checked.

const SHARED_SCHEMAS = ['common.schema.json', 'envelope.schema.json'];
const schemaFiles = readdirSync(schemaDir).filter((file) => file.endsWith('.json'));
const schemas = new Map(schemaFiles.map((file) => [file, readJson(`${schemaDir}${file}`) as Record<string, unknown>]));

const ajv = new Ajv2020.default({ strict: true, allErrors: true });
addFormats.default(ajv);
for (const schema of schemas.values()) ajv.addSchema(schema);

function validator(file: string) {
  const id = schemas.get(file)?.$id;
  if (typeof id !== 'string') throw new Error(`events/schemas/${file} is missing or has no $id`);
  const validate = ajv.getSchema(id);
  if (!validate) throw new Error(`no schema ${id}`);
  return validate;
}

/** Validates and returns Ajv's errors as text, '' when valid (so a failure says why). */
function errorsOf(file: string, data: unknown): string {
  const validate = validator(file);
  return validate(data) ? '' : ajv.errorsText(validate.errors);
}

function expectValid(file: string, data: unknown): void {
  expect(errorsOf(file, data), `${file}: ${JSON.stringify(data).slice(0, 200)}`).toBe('');
}

const schemaOf = (type: string) => `${type}.schema.json`;

// ---------------------------------------------------------------------------------------------
// The samples

const sampleFiles = readdirSync(sampleDir).filter((file) => file.endsWith('.json'));
const sample = <T>(file: string) => readJson(`${sampleDir}${file}`) as T;
const STREAM_RECORDS = 'publish-blob-events.stream-records.json';
const SQS_BATCH = 'project-blob.sqs-batch.json';
const envelopeSamples = sampleFiles.filter((file) => file !== STREAM_RECORDS && file !== SQS_BATCH);
/** The projector's sample: SQS messages whose bodies are blob events as the bus delivered them. */
const queuedEnvelopes = () => sample<{ Records: { body: string }[] }>(SQS_BATCH).Records.map((record) => JSON.parse(record.body) as Envelope);
const blobSamples = envelopeSamples.filter((file) => sample<Envelope>(file).source === BLOB_EVENT_SOURCE);

const lambdaContext: Context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'image-labeling-PublishBlobEventsFunction',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:image-labeling-PublishBlobEventsFunction',
  memoryLimitInMB: '512',
  awsRequestId: '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f',
  logGroupName: '/aws/lambda/image-labeling-PublishBlobEventsFunction',
  logStreamName: '2026/11/24/[$LATEST]0123456789abcdef0123456789abcdef',
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

/** A DynamoDB stream record (NEW_IMAGE) of an event appended to the log, as the pipe passes it on. */
function streamRecord(event: BlobEvent, eventName: 'INSERT' | 'MODIFY' = 'INSERT'): DynamoDBRecord {
  const image = marshall(event, { removeUndefinedValues: true });
  return {
    eventID: `${event.blob_id}-${event.version}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(Date.parse(event.occurred_at) / 1000),
      Keys: { blob_id: { S: event.blob_id }, version: { N: String(event.version) } },
      NewImage: image as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'],
      SequenceNumber: String(1_000_000 + event.version),
      SizeBytes: JSON.stringify(image).length,
      StreamViewType: 'NEW_IMAGE',
    },
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/events/stream/2026-11-01T00:00:00.000',
  };
}

// ---------------------------------------------------------------------------------------------
// Events the domain itself decides, one of every type (and the optional fields both ways).

function must<T>(value: T | null | undefined): T {
  if (value === null || value === undefined) throw new Error('the decision made no event where one was expected');
  return value;
}

function domainEvents(): BlobEvent[] {
  const blobId = '01M87ARFEB9P1S7007NF10H0R4';
  const at = (seconds: number) => new Date(Date.UTC(2026, 10, 24, 17, 48, 0) + seconds * 1000);
  const upload = { bucket: 'uploads', key: `uploads/${blobId}`, expires_at: at(900).toISOString() };
  const labeling = { max_labels: 20, min_confidence: 50 };
  const image = { width: 451, height: 300, content_type: 'image/png' as const, size_bytes: 240_512 };

  const created = decideCreate(blobId, at(0), {
    upload: { ...upload, content_type: 'image/png' },
    labeling,
    callback_url: 'https://example.com/hooks/labels',
  });
  const createdBare = decideCreate('01M87AZBGPAYRVKAEWMYFEJWM7', at(1), {
    upload,
    labeling: { max_labels: 1, min_confidence: 0 },
  });
  const waiting: BlobState = must(evolve(undefined, created));
  const waitingBare: BlobState = must(evolve(undefined, createdBare));
  const object = { bucket: upload.bucket, key: upload.key };
  const uploaded = must(decideUpload(waiting, at(3), { ...object, size_bytes: 240_512, etag: 'b1cc0ae5' }));
  const uploadedBare = must(decideUpload(waiting, at(3), { ...object, size_bytes: 0 }));
  const inProgress = must(evolve(waiting, uploaded));
  const inProgressBare = must(evolve(waitingBare, must(decideUpload(waitingBare, at(3), { ...object, size_bytes: 0 }))));
  const labeled = must(
    decideLabelingResult(inProgress, uploaded.version, at(4), {
      labeled: {
        labels: [
          {
            name: 'Cat',
            confidence: 98.734,
            parents: ['Animal', 'Mammal', 'Pet'],
            instances: [{ confidence: 98.734, bounding_box: { left: 0.002, top: 0.015, width: 0.914, height: 0.97 } }],
          },
          { name: 'Animal', confidence: 98.734, parents: [], instances: [] },
        ],
        model: 'rekognition/3.0',
        image,
      },
    }),
  );
  // The final events of the blob without a callback_url have none; the others repeat it.
  const labeledNothing = must(
    decideLabelingResult(inProgressBare, inProgressBare.version, at(4), {
      labeled: { labels: [], model: 'rekognition/3.0', image },
    }),
  );
  const failed = must(
    decideLabelingResult(inProgress, uploaded.version, at(4), {
      failed: { code: 'IMAGE_TOO_SMALL', message: 'The image is 64x48 px; it must be at least 80 px a side.' },
    }),
  );
  const timedOutBare = must(decideLabelingTimeout(inProgressBare, at(3 + 3600), 3600));
  const expired = must(decideExpire(waiting, at(900 + 300), 300));
  const expiredBare = must(decideExpire(waitingBare, at(900 + 300), 300));
  return [created, createdBare, uploaded, uploadedBare, labeled, labeledNothing, failed, timedOutBare, expired, expiredBare];
}

// ---------------------------------------------------------------------------------------------

describe('events/schemas', () => {
  it('has one schema per published event type, and none for anything else', () => {
    const typeSchemas = schemaFiles.filter((file) => !SHARED_SCHEMAS.includes(file)).sort();
    expect(typeSchemas).toEqual(blobEventTypes.map(schemaOf).sort());
    for (const file of SHARED_SCHEMAS) expect(schemaFiles).toContain(file);
  });

  it.each(schemaFiles)('%s is a strict-mode JSON Schema 2020-12 with an $id, title and description', (file) => {
    const schema = schemas.get(file)!;
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toMatch(new RegExp(`/events/${file.replaceAll('.', '\\.')}$`));
    expect(schema.title).toEqual(expect.any(String));
    expect(schema.description).toEqual(expect.any(String));
    expect(() => validator(file)).not.toThrow(); // compiles: strict mode refuses unknown keywords and formats
  });

  it.each(blobEventTypes)('the %s schema is for that type, and the envelope checks its detail with it', (type) => {
    const schema = schemas.get(schemaOf(type)) as { title: string; properties: { type: { const: string } } };
    expect(schema.title).toBe(type);
    expect(schema.properties.type.const).toBe(type);
    expect(JSON.stringify(schemas.get('envelope.schema.json'))).toContain(`"$ref":"${schemaOf(type)}"`);
  });
});

describe('events/samples', () => {
  it('has a sample for each consumer and one for every event type', () => {
    expect([...sampleFiles].sort()).toEqual(
      [
        'blob-created.json',
        'blob-expired.json',
        'blob-failed.json',
        'expire-blobs.scheduled.json',
        'label-blob.blob-uploaded.json',
        'send-callback.blob-labeled.json',
        SQS_BATCH,
        STREAM_RECORDS,
        'record-upload.object-created.json',
      ].sort(),
    );
    expect(blobSamples.map((file) => sample<Envelope>(file)['detail-type']).sort()).toEqual([...blobEventTypes].sort());
  });

  it.each(envelopeSamples)('%s is a valid EventBridge event', (file) => {
    expectValid('envelope.schema.json', sample(file));
  });

  it(`${SQS_BATCH} holds blob events as the bus queues them, valid against their schemas`, () => {
    const queued = queuedEnvelopes();
    expect(queued.map((event) => event['detail-type'])).toEqual(['BlobUploaded', 'BlobLabeled']);
    for (const event of queued) {
      expectValid('envelope.schema.json', event);
      expectValid(schemaOf(event['detail-type']), event.detail);
    }
  });

  it.each(blobSamples)('%s has a detail valid against the schema of its detail-type', (file) => {
    const event = sample<Envelope>(file);
    expect(blobEventTypes).toContain(event['detail-type']);
    expect(event.detail.type).toBe(event['detail-type']);
    expectValid(schemaOf(event['detail-type']), event.detail);
  });

  it("reaches each consumer through the template's own rules and pipe filter", () => {
    const template = loadTestTemplate();
    const rule = (functionId: string) =>
      structuredClone(ruleReaching(template, functionId).pattern) as { detail?: { bucket?: { name?: string[] } } };
    const objectCreated = sample<Envelope<{ bucket: { name: string } }>>('record-upload.object-created.json');
    // The bucket's physical name differs between the local stack and a deployment.
    const uploadRule = rule('RecordUploadFunction');
    uploadRule.detail!.bucket!.name = [objectCreated.detail.bucket.name];
    expect(matchesEventPattern(uploadRule, objectCreated)).toBe(true);
    expect(matchesEventPattern(rule('LabelBlobFunction'), sample('label-blob.blob-uploaded.json'))).toBe(true);
    for (const file of blobSamples) {
      expect(matchesEventPattern(rule('ProjectBlobFunction'), sample(file)), file).toBe(true);
    }
    for (const event of queuedEnvelopes()) expect(matchesEventPattern(rule('ProjectBlobFunction'), event)).toBe(true);
    expect(matchesEventPattern(rule('LabelBlobFunction'), sample('send-callback.blob-labeled.json'))).toBe(false);
    // The callback sender gets the labeled blob, which has a callback_url, and not the two without.
    expect(matchesEventPattern(rule('SendCallbackFunction'), sample('send-callback.blob-labeled.json'))).toBe(true);
    for (const file of ['blob-failed.json', 'blob-expired.json']) {
      expect(matchesEventPattern(rule('SendCallbackFunction'), sample(file)), file).toBe(false);
    }
    // Any other subscriber on the blob bus has a sample it accepts too.
    const blobBus = template.pipes[0]!.targetBus;
    for (const busRule of template.rules.filter((r) => r.busName === blobBus)) {
      expect(blobSamples.some((file) => matchesEventPattern(busRule.pattern, sample(file))), busRule.name).toBe(true);
    }

    const scheduled = sample<Envelope>('expire-blobs.scheduled.json');
    expect(scheduled).toMatchObject({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} });
    expect(template.functions.find((fn) => fn.logicalId === 'ExpireBlobsFunction')?.schedules).toHaveLength(1);

    const [pipe] = template.pipes;
    for (const record of sample<unknown[]>(STREAM_RECORDS)) {
      expect(pipe!.filters.some((filter) => matchesEventPattern(filter, record))).toBe(true);
    }
  });

  it('tells one consistent story: the upload, its labeling and the events agree', () => {
    type ObjectCreated = { bucket: { name: string }; object: { key: string; size: number; etag: string } };
    const objectCreated = sample<Envelope<ObjectCreated>>('record-upload.object-created.json');
    const created = sample<Envelope<BlobCreated>>('blob-created.json').detail;
    const uploaded = sample<Envelope<BlobUploaded>>('label-blob.blob-uploaded.json').detail;
    const labeled = sample<Envelope<BlobLabeled>>('send-callback.blob-labeled.json').detail;
    const { bucket, object } = objectCreated.detail;
    expect(object.key).toBe(`uploads/${created.blob_id}`);
    expect(created.data.upload).toMatchObject({ bucket: bucket.name, key: object.key });
    expect(uploaded.data).toEqual({ bucket: bucket.name, key: object.key, size_bytes: object.size, etag: object.etag });
    expect(labeled.data.image.size_bytes).toBe(object.size);
    expect(labeled.data.callback_url).toBe(created.data.callback_url); // repeated on the final event, for routing
    expect([created, uploaded, labeled].map((e) => [e.blob_id, e.version])).toEqual([
      [created.blob_id, 1],
      [created.blob_id, 2],
      [created.blob_id, 3],
    ]);
    const confidences = labeled.data.labels.map((label) => label.confidence);
    expect(confidences).toEqual([...confidences].sort((a, b) => b - a)); // most confident first
  });

  it('documents a rule pattern in events/README.md that picks the labeled cat and nothing else', () => {
    const readme = readFileSync(`${projectRoot}events/README.md`, 'utf8');
    const pattern = JSON.parse(/```json\n([\s\S]*?)```/.exec(readme)![1]!) as unknown;
    const matched = blobSamples.filter((file) => matchesEventPattern(pattern, sample(file)));
    expect(matched).toEqual(['send-callback.blob-labeled.json']);
  });
});

describe('the enrichment (publish-blob-events) publishes schema-valid events', () => {
  it('turns the stream-records sample into the BlobCreated of blob-created.json', async () => {
    const records = sample<DynamoDBRecord[]>(STREAM_RECORDS);
    const events = await publishBlobEvents(records, lambdaContext);
    expect(events).toHaveLength(records.length);
    for (const event of events) expectValid(schemaOf(event.type), event);
    expect(events[0]).toEqual(sample<Envelope>('blob-created.json').detail);
  });

  it('publishes every type the domain appends to the log, unchanged', async () => {
    const appended = domainEvents();
    const records = [...appended.map((event) => streamRecord(event)), streamRecord(appended[0]!, 'MODIFY')];
    const published = await publishBlobEvents(records, lambdaContext);
    expect(published).toEqual(appended); // the MODIFY is not an append, so not an event
    for (const event of published) expectValid(schemaOf(event.type), event);
  });

  it('parses each item: one that is not an event its schema describes is left out, the others published', async () => {
    const [created, , uploaded] = domainEvents();
    const damaged = { ...uploaded!, data: { ...uploaded!.data, size_bytes: 'large' } } as unknown as BlobEvent;
    const unknownVersion = { ...uploaded!, schema_version: 7 } as unknown as BlobEvent;
    const published = await publishBlobEvents([streamRecord(created!), streamRecord(damaged), streamRecord(unknownVersion)], lambdaContext);
    expect(published).toEqual([created]);
  });
});

describe('events the domain decides validate against their schema', () => {
  const events = domainEvents();

  it('covers every event type', () => {
    expect(new Set(events.map((event) => event.type))).toEqual(new Set<BlobEventType>(blobEventTypes));
  });

  it('covers each final event type both with and without the callback_url that routes it', () => {
    const finals = events.filter((event) => ['BlobLabeled', 'BlobFailed', 'BlobExpired'].includes(event.type));
    const kinds = finals.map((event) => `${event.type} ${'callback_url' in event.data}`);
    expect(new Set(kinds)).toEqual(new Set(['BlobLabeled', 'BlobFailed', 'BlobExpired'].flatMap((type) => [`${type} true`, `${type} false`])));
  });

  const nameOf = (event: BlobEvent) => `${event.type} v${event.version} (${Object.keys(event.data).join(', ')})`;
  const named = events.map((event) => [nameOf(event), event] as const);
  it.each(named)('%s', (_name, event) => {
    expectValid(schemaOf(event.type), event);
    expectValid('envelope.schema.json', {
      version: '0',
      id: '1397d319-fccf-46d9-ae75-802c9509c39f',
      'detail-type': event.type,
      source: BLOB_EVENT_SOURCE,
      account: '123456789012',
      time: '2026-11-24T17:48:19Z',
      region: 'us-east-1',
      resources: [],
      detail: event,
    });
  });
});

describe('the schemas reject malformed events', () => {
  const labeled = () => structuredClone(sample<Envelope>('send-callback.blob-labeled.json'));
  type Detail = Record<string, unknown> & { data?: Record<string, unknown> & { labels: Record<string, unknown>[] } };
  const cases: [string, (detail: Detail) => void, RegExp][] = [
    ['a missing data field', (d) => delete d.data, /must have required property 'data'/],
    ['a version that is a string', (d) => (d.version = '3'), /\/version must be integer/],
    ['a version of 0', (d) => (d.version = 0), /\/version must be >= 2/],
    ['a blob_id that is not a ULID', (d) => (d.blob_id = '01m87arfeb9p1s7007nf10h0r4'), /\/blob_id must match pattern/],
    ['a schema_version it does not describe', (d) => (d.schema_version = 99), /\/schema_version must be equal to one of the allowed values/],
    ['a callback_url in a schema_version 1, which had none', (d) => (d.schema_version = 1), /\/data\/callback_url boolean schema is false/],
    ['an occurred_at that is not a date-time', (d) => (d.occurred_at = '24/11/2026'), /occurred_at must match format/],
    ['an unknown field in data', (d) => (d.data!.labels_count = 5), /\/data must NOT have additional properties/],
    ['an unknown field on the event', (d) => (d.tenant = 'acme'), /must NOT have additional properties/],
    ['a missing image', (d) => delete d.data!.image, /\/data must have required property 'image'/],
    ['a confidence over 100', (d) => (d.data!.labels[0]!.confidence = 101), /\/labels\/0\/confidence must be <= 100/],
    ['another type', (d) => (d.type = 'BlobFailed'), /\/type must be equal to constant/],
    ['a callback_url that is not a URI', (d) => (d.data!.callback_url = 'hooks/labels'), /\/data\/callback_url must match format "uri"/],
  ];

  it.each(cases)('BlobLabeled with %s', (_name, corrupt, error) => {
    const detail = labeled().detail as Detail;
    expectValid('BlobLabeled.schema.json', detail); // the sample itself is fine...
    corrupt(detail);
    expect(errorsOf('BlobLabeled.schema.json', detail)).toMatch(error); // ...and the corruption is caught
  });

  it.each(['blob-failed.json', 'blob-expired.json', 'send-callback.blob-labeled.json'])(
    '%s: the final event takes an optional callback_url, a URI like BlobCreated\'s',
    (file) => {
      const detail = sample<Envelope<{ data: Record<string, unknown> }>>(file).detail;
      const schema = schemaOf(sample<Envelope>(file)['detail-type']);
      const { callback_url: _url, ...withoutUrl } = detail.data;
      expectValid(schema, { ...detail, data: withoutUrl });
      expectValid(schema, { ...detail, schema_version: 1, data: withoutUrl }); // as written before version 2
      expectValid(schema, { ...detail, data: { ...withoutUrl, callback_url: 'https://example.com/hooks/labels?token=abc' } });
      expect(errorsOf(schema, { ...detail, data: { ...withoutUrl, callback_url: 'not a url' } })).toMatch(/\/data\/callback_url must match format "uri"/);
      expect(errorsOf(schema, { ...detail, data: { ...withoutUrl, callback_url: null } })).toMatch(/\/data\/callback_url must be string/);
    },
  );

  it('BlobCreated with a version other than 1, or without its labeling settings', () => {
    const created = sample<Envelope<BlobCreated>>('blob-created.json').detail;
    expect(errorsOf('BlobCreated.schema.json', { ...created, version: 2 })).toMatch(/\/version must be equal to const/);
    expect(errorsOf('BlobCreated.schema.json', { ...created, data: { upload: created.data.upload } })).toMatch(
      /must have required property 'labeling'/,
    );
  });

  it('an envelope whose detail is not what its detail-type says', () => {
    const failedDetail = sample<Envelope>('blob-failed.json').detail;
    const mislabeled = { ...labeled(), detail: failedDetail };
    expect(errorsOf('envelope.schema.json', mislabeled)).toMatch(/\/detail\/type must be equal to constant/);
    expect(errorsOf('envelope.schema.json', { ...labeled(), 'detail-type': 'BlobDeleted' })).toMatch(
      /\/detail-type must be equal to one of the allowed values/,
    );
    const { detail: _detail, ...withoutDetail } = labeled();
    expect(errorsOf('envelope.schema.json', withoutDetail)).toMatch(/must have required property 'detail'/);
  });
});
