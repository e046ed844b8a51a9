// The blob's events: typed, versioned records, defined once here. They are the source of truth
// (the event log) and, unchanged, the `detail` of what is published on the bus. From these
// definitions `npm run generate` writes events/schemas/*.json for consumers, the shared
// components of openapi.yaml, and the validators the boundaries (the log, the stream, the
// queues) parse with (shared/lambda/inputs.ts); the TypeScript types below are inferred from
// them. Build time only: the product imports this module's types alone (ESLint says so), so
// no function bundles zod. CONTRIBUTING.md has the recipes.
import * as z from 'zod';

// ---------------------------------------------------------------------------------------------
// Building blocks: each `id` becomes a definition in events/schemas/common.schema.json and a
// component of openapi.yaml.

export const BlobId = z
  .string()
  .regex(/^[0-9A-HJKMNP-TV-Z]{26}$/)
  .meta({
    id: 'BlobId',
    // The first sentence is what a request error says a bad blob_id must be.
    description: "A ULID (26 characters of Crockford base32). The blob's id, as the API returns it.",
    examples: ['01M87ARFEB9P1S7007NF10H0R4'],
  });

export const SchemaVersion = z.literal(1).meta({
  id: 'SchemaVersion',
  description: "The shape of this type's `data`, for the types still at version 1. Bumped when it changes.",
});

/** Offsets are accepted as the published schemas' `date-time` accepts them; the code writes UTC. */
export const Timestamp = z.iso.datetime({ offset: true }).meta({
  id: 'Timestamp',
  description: 'An RFC 3339 UTC timestamp with milliseconds, e.g. 2026-11-24T17:48:18.763Z.',
});

export const CallbackUrl = z.url().meta({
  id: 'CallbackUrl',
  description: 'An absolute http(s) URL the client gave (POST /blobs callback_url) to be told when labeling ends.',
  examples: ['https://example.com/hooks/labels'],
});

export const ImageContentType = z.enum(['image/jpeg', 'image/png']).meta({ id: 'ImageContentType' });

export const Confidence = z.number().min(0).max(100).meta({ id: 'Confidence', description: 'Percent.' });

export const LabelingSettings = z
  .strictObject({
    max_labels: z.int().min(1).describe('At most this many labels, parents included.'),
    min_confidence: Confidence.describe('Labels below this confidence (percent) are left out.'),
  })
  .meta({ id: 'LabelingSettings', description: 'The DetectLabels settings the blob is labeled with.' });

export const BoundingBox = z
  .strictObject({
    left: z.number(),
    top: z.number(),
    width: z.number().min(0),
    height: z.number().min(0),
  })
  .meta({
    id: 'BoundingBox',
    description:
      "Where an instance is, as ratios of the image's width and height (0..1 as Rekognition gives them; Rekognition may report a box reaching slightly past an edge).",
  });

export const LabelInstance = z
  .strictObject({ bounding_box: BoundingBox, confidence: Confidence })
  .meta({ id: 'LabelInstance' });

export const Label = z
  .strictObject({
    name: z.string().min(1).meta({ examples: ['Cat'] }),
    confidence: Confidence,
    parents: z
      .array(z.string().min(1))
      .describe("The label's parent categories (each is also a label of its own), e.g. Cat -> Pet, Mammal, Animal."),
    instances: z
      .array(LabelInstance)
      .describe('Where the label is in the image; empty for labels that are not objects (e.g. parents).'),
  })
  .meta({ id: 'Label' });

export const ImageInfo = z
  .strictObject({
    width: z.int().min(1).describe('Pixels, after EXIF orientation.'),
    height: z.int().min(1).describe('Pixels, after EXIF orientation.'),
    content_type: ImageContentType.describe('From the image\'s bytes, not from the Content-Type it was uploaded with.'),
    size_bytes: z.int().min(0),
  })
  .meta({ id: 'ImageInfo', description: 'What the uploaded image is, read from its own bytes.' });

export const FailureCode = z
  .enum(['INVALID_IMAGE_FORMAT', 'IMAGE_TOO_LARGE', 'IMAGE_TOO_SMALL', 'LABELING_FAILED'])
  .meta({ id: 'FailureCode' });

/** The definitions events/schemas/common.schema.json holds, in its order. */
export const commonDefinitions = [
  BlobId,
  SchemaVersion,
  Timestamp,
  CallbackUrl,
  ImageContentType,
  Confidence,
  LabelingSettings,
  BoundingBox,
  LabelInstance,
  Label,
  ImageInfo,
  FailureCode,
] as const;

// ---------------------------------------------------------------------------------------------
// Each type's `data`, at every schema_version ever written (the log keeps them all).

const LabelingResultV1 = z.strictObject({
  labels: z
    .array(Label)
    .describe('Most confident first; parent categories are labels too. Empty when nothing was recognised.'),
  model: z
    .string()
    .min(1)
    .describe("What produced the labels, e.g. `rekognition/3.0`, or the local detector's name.")
    .meta({ examples: ['rekognition/3.0', 'rekognition/centernet-coco80 (local)'] }),
  image: ImageInfo,
});

export const Failure = z
  .strictObject({
    code: FailureCode.describe(
      'INVALID_IMAGE_FORMAT: not a JPEG or PNG by its bytes, or unreadable. IMAGE_TOO_LARGE: over the byte limit or 10,000 px a side. IMAGE_TOO_SMALL: under 80 px a side. LABELING_FAILED: Rekognition kept failing after retries, or the image was gone.',
    ),
    message: z.string().describe('For people; do not parse it.'),
  })
  .meta({ id: 'Failure' });

const BlobCreatedDataV1 = z.strictObject({
  upload: z
    .strictObject({
      bucket: z.string().min(1),
      key: z.string().min(1).describe('uploads/<blob_id>').meta({ examples: ['uploads/01M87ARFEB9P1S7007NF10H0R4'] }),
      expires_at: Timestamp.describe('When the upload URL stops working.'),
      content_type: ImageContentType.describe(
        'Present when the client asked for one: the upload URL is signed for it and S3 refuses any other Content-Type.',
      ).optional(),
    })
    .describe('Where the image is to be uploaded (with the presigned URL the client was given).'),
  labeling: LabelingSettings,
  callback_url: CallbackUrl.describe(
    'Present when the client gave one: an absolute http(s) URL to tell when labeling ends.',
  ).optional(),
});

const BlobUploadedDataV1 = z
  .strictObject({
    bucket: z.string().min(1),
    key: z.string().min(1).meta({ examples: ['uploads/01M87ARFEB9P1S7007NF10H0R4'] }),
    size_bytes: z.int().min(0),
    etag: z.string().describe("S3's ETag of the object, when S3 gave one.").optional(),
  })
  .describe('The uploaded object, as S3 reported it.');

/**
 * Version 2 of the final events repeats the blob's callback_url from its BlobCreated (absent
 * when it has none), so that a rule can route the outcome to the callback sender without
 * reading the log: a blob without a callback then costs no invocation at all.
 */
const callbackRouting = {
  callback_url: CallbackUrl.describe(
    "Present when the blob has one (from schema_version 2): BlobCreated's data.callback_url, repeated here so that a rule can route the outcome to a callback sender without reading the blob's log.",
  ).optional(),
};
const callbackRoutingChange = 'added the optional data.callback_url';

const BlobLabeledDataV1 = LabelingResultV1;
const BlobFailedDataV1 = Failure;
const BlobExpiredDataV1 = z.strictObject({
  upload_expired_at: Timestamp.describe(
    "When the upload URL stopped working (BlobCreated's data.upload.expires_at); the blob expires a grace period later.",
  ),
});

// ---------------------------------------------------------------------------------------------
// The events. A type's `versions` lists its data at every schema_version, oldest first; the
// last is what the code writes now. A later version may only add optional fields (checked
// when this module loads), so reading an older one needs no upcasting: its data already fits
// the latest shape, and its schema_version says which it was.

interface DataVersion {
  data: z.ZodObject;
  /** What this version changed, for the published schema (every version after the first). */
  change?: string;
}

export function blobEvent<
  const Type extends string,
  const Versions extends readonly [DataVersion, ...DataVersion[]],
  Position extends z.ZodType<number>,
>(
  type: Type,
  definition: {
    description: string;
    /** The event's `version`: its place in the blob's log. */
    position: Position;
    occurredAt: string;
    versions: Versions;
  },
) {
  const { versions } = definition;
  type Latest = Versions extends readonly [...DataVersion[], infer L extends DataVersion] ? L['data'] : never;
  const latest = versions[versions.length - 1]!.data as Latest;
  const numbers = versions.map((_, index) => index + 1);
  const schemaVersion =
    versions.length === 1
      ? SchemaVersion
      : z.literal(numbers as [number, ...number[]]).describe(
          `The shape of this type's \`data\`. ${versions
            .slice(1)
            .map((version, index) => `${index + 2} ${version.change ?? 'changed it'}`)
            .join('; ')}; ${
            versions.length === 2
              ? 'a 1 (written before, e.g. in a replay) is the same without it'
              : 'an older one (written before, e.g. in a replay) is the same without the fields added since'
          }.`,
        );
  // Reading an older version needs no upcasting only while each version just adds optional
  // fields: checked here, when the module loads, so a change that breaks it fails every test.
  versions.slice(0, -1).forEach((version, index) => {
    const dropped = Object.keys(version.data.shape).filter((field) => !(field in latest.shape));
    if (dropped.length > 0) throw new Error(`${type}: schema_version ${versions.length} drops data.${dropped.join(', data.')}; write an upcaster (CONTRIBUTING.md)`);
    for (const [field, schema] of Object.entries(latest.shape)) {
      const kept = version.data.shape[field];
      if (kept === undefined ? !schema.safeParse(undefined).success : kept !== schema) {
        throw new Error(
          `${type}: data.${field} differs between schema_version ${index + 1} and ${versions.length}; a version may only add optional fields (see CONTRIBUTING.md: write an upcaster)`,
        );
      }
    }
  });
  // What the published schema says about each older version: the fields it did not have yet.
  const olderVersions = versions.slice(0, -1).map((version, index) => ({
    schemaVersion: index + 1,
    missing: Object.keys(latest.shape).filter((field) => !(field in version.data.shape)),
  }));
  const schema = z
    .strictObject({
      blob_id: BlobId,
      version: definition.position,
      type: z.literal(type).describe("The same as the envelope's detail-type."),
      // Which numbers a type has is known from its versions list; zod's literal type cannot say so.
      schema_version: schemaVersion as z.ZodType as z.ZodType<VersionNumbers<Versions>>,
      occurred_at: Timestamp.describe(definition.occurredAt),
      data: latest,
    })
    .superRefine((value, context) => {
      // The latest shape admits every version's data; an older version must also be its own shape.
      const event = value as { schema_version: number; data: unknown }; // generic here, concrete to callers
      if (event.schema_version === versions.length) return;
      const own = versions[event.schema_version - 1]!.data.safeParse(event.data);
      for (const issue of own.success ? [] : own.error.issues) {
        context.addIssue({ code: 'custom', path: ['data', ...issue.path], message: `${issue.message} (schema_version ${event.schema_version})` });
      }
    })
    .meta({
      title: type,
      description: `${definition.description} This is the \`detail\` of an event with detail-type \`${type}\` and source \`${BLOB_EVENT_SOURCE}\`.`,
      ...olderSchemaVersions(olderVersions),
    });
  return Object.assign(schema, { eventType: type, currentSchemaVersion: versions.length as VersionNumbers<Versions> });
}

type VersionNumbers<Versions extends readonly unknown[]> = Versions extends readonly [...infer Rest, unknown]
  ? Rest['length'] extends 0
    ? 1
    : VersionNumbers<Rest> | Versions['length']
  : never;

/** JSON Schema for "an older schema_version has none of the fields added since". */
function olderSchemaVersions(older: { schemaVersion: number; missing: string[] }[]): Record<string, unknown> {
  const branches = older.map(({ schemaVersion, missing }) => ({
    if: { type: 'object', required: ['schema_version'], properties: { schema_version: { const: schemaVersion } } },
    then: {
      type: 'object',
      properties: { data: { type: 'object', properties: Object.fromEntries(missing.map((field) => [field, false])) } },
    },
  }));
  const comment = older.map(({ schemaVersion, missing }) => `Version ${schemaVersion} has no ${missing.map((f) => `data.${f}`).join(', ')}.`).join(' ');
  if (branches.length === 0) return {};
  return branches.length === 1 ? { $comment: comment, ...branches[0] } : { $comment: comment, allOf: branches };
}

/** The `source` of every blob event published on the bus. */
export const BLOB_EVENT_SOURCE = 'image-labeling.blobs';

const afterCreated = (what: string) => z.int().min(2).describe(`Position in the blob's log (${what}).`);

export const BlobCreated = blobEvent('BlobCreated', {
  description:
    'A client asked for a blob (POST /blobs): it has an upload URL and waits for its image (invocation_status ACTION_REQUIRED). Always the blob\'s first event.',
  position: z.literal(1).describe("Position in the blob's log; a blob's log always starts with BlobCreated."),
  occurredAt: "When the blob was requested (the API's requested_on).",
  versions: [
    { data: BlobCreatedDataV1 },
    {
      data: BlobCreatedDataV1.extend({
        owner: z
          .string()
          .min(1)
          .describe(
            "Who created the blob: the caller the authorizer identified (the API key's owner, the token's sub, or `anonymous` when the API is open). Only this owner sees the blob.",
          )
          .meta({ examples: ['alice'] })
          .optional(),
      }),
      change: 'added the optional data.owner (a blob without one belongs to the anonymous owner)',
    },
  ],
});

export const BlobUploaded = blobEvent('BlobUploaded', {
  description:
    "The blob's image arrived in the upload bucket and will be labeled (invocation_status IN_PROGRESS). Only the first upload of a blob is recorded.",
  position: afterCreated('after BlobCreated'),
  occurredAt: "When the upload was recorded (the API's started_on).",
  versions: [{ data: BlobUploadedDataV1 }],
});

export const BlobLabeled = blobEvent('BlobLabeled', {
  description:
    'The image was labeled (invocation_status COMPLETED), possibly with no labels. A final event: nothing follows it.',
  position: afterCreated('after the BlobUploaded it labels'),
  occurredAt: "When labeling ended (the API's completed_on).",
  versions: [
    { data: BlobLabeledDataV1 },
    { data: BlobLabeledDataV1.extend(callbackRouting), change: callbackRoutingChange },
  ],
});

export const BlobFailed = blobEvent('BlobFailed', {
  description: 'The image could not be labeled (invocation_status FAILED). A final event: nothing follows it.',
  position: afterCreated('after the BlobUploaded that failed'),
  occurredAt: "When labeling ended (the API's completed_on).",
  versions: [
    { data: BlobFailedDataV1 },
    { data: BlobFailedDataV1.extend(callbackRouting), change: callbackRoutingChange },
  ],
});

export const BlobExpired = blobEvent('BlobExpired', {
  description:
    'No image arrived: the upload URL expired and a grace period passed (invocation_status EXPIRED). A final event: a later upload changes nothing.',
  position: afterCreated('after BlobCreated'),
  occurredAt: "When the expiry sweep recorded it (the API's expired_on).",
  versions: [
    { data: BlobExpiredDataV1 },
    { data: BlobExpiredDataV1.extend(callbackRouting), change: callbackRoutingChange },
  ],
});

/**
 * What labeling produces: BlobLabeled's data as it is written now, without the routing its
 * decision adds. The state, the API's Blob and the callback take it as it is, so a new result
 * field (a new version above) reaches them with no other change.
 */
export const LabelingResult = BlobLabeled.shape.data.omit({ callback_url: true });

/** Every event type, in the order a blob meets them. */
export const blobEventSchemas = [BlobCreated, BlobUploaded, BlobLabeled, BlobFailed, BlobExpired] as const;

/** Any blob event, as read from the log, the stream or the bus (those boundaries parse with its generated validator). */
export const BlobEvent = z.discriminatedUnion('type', blobEventSchemas);

// ---------------------------------------------------------------------------------------------
// The types, inferred.

export type BlobId = z.infer<typeof BlobId>;
export type ImageContentType = z.infer<typeof ImageContentType>;
export type FailureCode = z.infer<typeof FailureCode>;
export type LabelingSettings = z.infer<typeof LabelingSettings>;
export type BoundingBox = z.infer<typeof BoundingBox>;
export type LabelInstance = z.infer<typeof LabelInstance>;
export type Label = z.infer<typeof Label>;
export type ImageInfo = z.infer<typeof ImageInfo>;
export type LabelingResult = z.infer<typeof LabelingResult>;

export type BlobCreated = z.infer<typeof BlobCreated>;
export type BlobUploaded = z.infer<typeof BlobUploaded>;
export type BlobLabeled = z.infer<typeof BlobLabeled>;
export type BlobFailed = z.infer<typeof BlobFailed>;
export type BlobExpired = z.infer<typeof BlobExpired>;
export type BlobEvent = z.infer<typeof BlobEvent>;
export type BlobEventType = BlobEvent['type'];

export type BlobCreatedData = BlobCreated['data'];
export type BlobUploadedData = BlobUploaded['data'];
/** What labeling produced: the data of BlobLabeled as the labeler decides it, before routing is added. */
export type BlobLabeledData = LabelingResult;
export type BlobFailedData = z.infer<typeof Failure>;
export type BlobExpiredData = z.infer<typeof BlobExpiredDataV1>;
/** What the final events add for routing (schema_version 2). */
export type CallbackRouting = Pick<BlobLabeled['data'], 'callback_url'>;

export const blobEventTypes: readonly BlobEventType[] = blobEventSchemas.map((schema) => schema.eventType);

/** The schema_version each type is written at now: the last of its versions. */
export const currentSchemaVersions = Object.fromEntries(
  blobEventSchemas.map((schema) => [schema.eventType, schema.currentSchemaVersion]),
) as { [E in BlobEvent as E['type']]: E['schema_version'] };

export function isBlobEventType(value: unknown): value is BlobEventType {
  return typeof value === 'string' && (blobEventTypes as readonly string[]).includes(value);
}
