// Blob events for tests, written as the log holds them: each builder gives the event its type's
// current schema_version and the fields a test does not care about. What a test cares about,
// it says.
import { monotonicFactory } from 'ulid';
import {
  currentSchemaVersions,
  type BlobCreated,
  type BlobCreatedData,
  type BlobExpired,
  type BlobFailed,
  type BlobFailedData,
  type BlobLabeled,
  type BlobUploaded,
  type Label,
  type LabelingResult,
} from '../../shared/blob/events.ts';

const ulid = monotonicFactory();
/** A fresh blob id: tests sharing a table never meet each other's blobs. */
export const newBlobId = (): string => ulid();

/** 2026-11-24 12:00:00 UTC plus this many seconds: times a test can read. */
export const at = (seconds: number): Date => new Date(Date.UTC(2026, 10, 24, 12, 0, 0) + seconds * 1000);

export const cat: Label = { name: 'Cat', confidence: 71.5, parents: ['Animal', 'Pet', 'Mammal'], instances: [] };
export const labelingResult: LabelingResult = {
  labels: [cat],
  model: 'test-model',
  image: { width: 451, height: 300, content_type: 'image/png', size_bytes: 1234 },
};

/** Created at `at(0)`; its upload URL expires at `at(900)`. */
export function blobCreated(
  blobId: string,
  options: { occurredAt?: Date; callbackUrl?: string; owner?: string; expiresAt?: Date; labeling?: BlobCreatedData['labeling'] } = {},
): BlobCreated {
  return {
    blob_id: blobId,
    version: 1,
    type: 'BlobCreated',
    schema_version: currentSchemaVersions.BlobCreated,
    occurred_at: (options.occurredAt ?? at(0)).toISOString(),
    data: {
      upload: { bucket: 'uploads', key: `uploads/${blobId}`, expires_at: (options.expiresAt ?? at(900)).toISOString() },
      labeling: options.labeling ?? { max_labels: 10, min_confidence: 50 },
      ...(options.callbackUrl && { callback_url: options.callbackUrl }),
      owner: options.owner ?? 'alice',
    },
  };
}

export function blobUploaded(blobId: string, options: { version?: number; occurredAt?: Date; sizeBytes?: number } = {}): BlobUploaded {
  return {
    blob_id: blobId,
    version: options.version ?? 2,
    type: 'BlobUploaded',
    schema_version: currentSchemaVersions.BlobUploaded,
    occurred_at: (options.occurredAt ?? at(10)).toISOString(),
    data: { bucket: 'uploads', key: `uploads/${blobId}`, size_bytes: options.sizeBytes ?? 1234 },
  };
}

export function blobLabeled(
  blobId: string,
  options: { version?: number; occurredAt?: Date; result?: LabelingResult; callbackUrl?: string } = {},
): BlobLabeled {
  return {
    blob_id: blobId,
    version: options.version ?? 3,
    type: 'BlobLabeled',
    schema_version: currentSchemaVersions.BlobLabeled,
    occurred_at: (options.occurredAt ?? at(20)).toISOString(),
    data: { ...(options.result ?? labelingResult), ...(options.callbackUrl && { callback_url: options.callbackUrl }) },
  };
}

export function blobFailed(
  blobId: string,
  options: { version?: number; occurredAt?: Date; failure?: BlobFailedData; callbackUrl?: string } = {},
): BlobFailed {
  return {
    blob_id: blobId,
    version: options.version ?? 3,
    type: 'BlobFailed',
    schema_version: currentSchemaVersions.BlobFailed,
    occurred_at: (options.occurredAt ?? at(20)).toISOString(),
    data: {
      ...(options.failure ?? { code: 'INVALID_IMAGE_FORMAT', message: 'not an image' }),
      ...(options.callbackUrl && { callback_url: options.callbackUrl }),
    },
  };
}

export function blobExpired(
  blobId: string,
  options: { version?: number; occurredAt?: Date; uploadExpiredAt?: Date; callbackUrl?: string } = {},
): BlobExpired {
  return {
    blob_id: blobId,
    version: options.version ?? 2,
    type: 'BlobExpired',
    schema_version: currentSchemaVersions.BlobExpired,
    occurred_at: (options.occurredAt ?? at(1200)).toISOString(),
    data: {
      upload_expired_at: (options.uploadExpiredAt ?? at(900)).toISOString(),
      ...(options.callbackUrl && { callback_url: options.callbackUrl }),
    },
  };
}
