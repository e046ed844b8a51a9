// The blob's events: typed, versioned records. They are the source of truth (the event
// log) and, unchanged, the `detail` of what is published on the bus; events/ holds their
// JSON Schemas for consumers.

export type FailureCode =
  | 'INVALID_IMAGE_FORMAT'
  | 'IMAGE_TOO_LARGE'
  | 'IMAGE_TOO_SMALL'
  | 'LABELING_FAILED';

export interface BoundingBox {
  /** Ratios of the image's width and height, 0..1, as Rekognition gives them. */
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface LabelInstance {
  bounding_box: BoundingBox;
  confidence: number;
}

export interface Label {
  name: string;
  /** 0..100 */
  confidence: number;
  parents: string[];
  instances: LabelInstance[];
}

export type ImageContentType = 'image/jpeg' | 'image/png';

export interface LabelingSettings {
  max_labels: number;
  min_confidence: number;
}

export interface BlobCreatedData {
  upload: { bucket: string; key: string; expires_at: string; content_type?: ImageContentType };
  labeling: LabelingSettings;
  callback_url?: string;
}

export interface BlobUploadedData {
  bucket: string;
  key: string;
  size_bytes: number;
  etag?: string;
}

export interface ImageInfo {
  width: number;
  height: number;
  /** From the image's own bytes, not from what the upload claimed. */
  content_type: ImageContentType;
  size_bytes: number;
}

export interface BlobLabeledData {
  labels: Label[];
  /** What produced the labels, e.g. `rekognition/3.0` or the local detector's name. */
  model: string;
  image: ImageInfo;
}

export interface BlobFailedData {
  code: FailureCode;
  message: string;
}

export interface BlobExpiredData {
  /** When the upload URL stopped working; the blob expires a grace period later. */
  upload_expired_at: string;
}

/**
 * The blob's callback_url from its BlobCreated, repeated on the event that ends the blob (and
 * absent when it has none) so that a rule can route the outcome to the callback sender without
 * reading the log: a blob without a callback then costs no invocation at all. New in
 * schema_version 2 of those events; their version 1 is the same without it.
 */
export interface CallbackRouting {
  callback_url?: string;
}

interface EventOf<Type extends string, Data, SchemaVersion extends number> {
  blob_id: string;
  /** Position in the blob's log: 1, 2, 3... Unique per blob; the conditional write keys on it. */
  version: number;
  type: Type;
  /**
   * Bumped when a type's data changes shape, even by an optional field (events/README.md):
   * the log keeps every version ever written, so readers take them all and upcast older ones.
   */
  schema_version: SchemaVersion;
  occurred_at: string;
  data: Data;
}

export type BlobCreated = EventOf<'BlobCreated', BlobCreatedData, 1>;
export type BlobUploaded = EventOf<'BlobUploaded', BlobUploadedData, 1>;
// Version 1 of the final events is version 2 without the optional callback_url: nothing to upcast.
export type BlobLabeled = EventOf<'BlobLabeled', BlobLabeledData & CallbackRouting, 1 | 2>;
export type BlobFailed = EventOf<'BlobFailed', BlobFailedData & CallbackRouting, 1 | 2>;
export type BlobExpired = EventOf<'BlobExpired', BlobExpiredData & CallbackRouting, 1 | 2>;

export type BlobEvent = BlobCreated | BlobUploaded | BlobLabeled | BlobFailed | BlobExpired;
export type BlobEventType = BlobEvent['type'];

export const blobEventTypes: readonly BlobEventType[] = [
  'BlobCreated',
  'BlobUploaded',
  'BlobLabeled',
  'BlobFailed',
  'BlobExpired',
];

/** The schema_version each type is written at now. */
export const currentSchemaVersions = {
  BlobCreated: 1,
  BlobUploaded: 1,
  BlobLabeled: 2,
  BlobFailed: 2,
  BlobExpired: 2,
} as const satisfies Record<BlobEventType, number>;

export function isBlobEventType(value: unknown): value is BlobEventType {
  return typeof value === 'string' && (blobEventTypes as readonly string[]).includes(value);
}

/** The `source` of every blob event published on the bus. */
export const BLOB_EVENT_SOURCE = 'image-labeling.blobs';
