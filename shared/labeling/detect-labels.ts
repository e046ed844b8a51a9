// Rekognition DetectLabels in, our label shape out. Every answer, including every error,
// becomes an outcome: a labeling ends as labels or as a failure with a reason code, except a
// passing failure (throttling, a timeout, a 5xx) while the caller can still try again later:
// that is thrown as a TransientLabelingError.
import {
  DetectLabelsCommand,
  ImageTooLargeException,
  InvalidImageFormatException,
  InvalidS3ObjectException,
  type Label as RekognitionLabel,
} from '@aws-sdk/client-rekognition';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import type { SdkError } from '@smithy/types';
import { rekognition } from '../aws/rekognition.ts';
import type { BlobFailedData, BlobLabeledData, ImageInfo, Label, LabelingSettings } from '../blob/events.ts';

export type LabelingOutcome = { labeled: BlobLabeledData } | { failed: BlobFailedData };

/** Rekognition could not answer now (throttling, a timeout, a 5xx); the image may well be fine. */
export class TransientLabelingError extends Error {
  override readonly name = 'TransientLabelingError';
  /** Above the account's quota (ThrottlingException and the like), not a timeout or a 5xx. */
  readonly throttled: boolean;

  constructor(message: string, options: { cause: unknown; throttled: boolean }) {
    super(message, { cause: options.cause });
    this.throttled = options.throttled;
  }
}

export async function detectLabels(
  object: { bucket: string; key: string },
  image: ImageInfo,
  settings: LabelingSettings,
  options: {
    /** When the caller will try again later: passing failures are thrown, not recorded. */
    retryLater?: boolean;
    /** The image itself (up to 5 MB), which pins the labels to it; else Rekognition reads the object. */
    bytes?: Uint8Array;
  } = {},
): Promise<LabelingOutcome> {
  try {
    const response = await rekognition().send(
      new DetectLabelsCommand({
        Image: options.bytes ? { Bytes: options.bytes } : { S3Object: { Bucket: object.bucket, Name: object.key } },
        MaxLabels: settings.max_labels,
        MinConfidence: settings.min_confidence,
      }),
    );
    return {
      labeled: {
        labels: (response.Labels ?? []).map(toLabel).sort((a, b) => b.confidence - a.confidence),
        model: `rekognition/${response.LabelModelVersion ?? 'unknown'}`,
        image,
      },
    };
  } catch (error) {
    if (options.retryLater === true && isPassing(error)) {
      throw new TransientLabelingError(`DetectLabels failed for now: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
        throttled: isThrottlingError(error as SdkError),
      });
    }
    return { failed: toFailure(error) };
  }
}

/** The SDK's own classification of what is worth retrying. */
function isPassing(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const sdkError = error as SdkError;
  return isThrottlingError(sdkError) || isTransientError(sdkError) || isServerError(sdkError);
}

function toLabel(label: RekognitionLabel): Label {
  return {
    name: label.Name ?? 'Unknown',
    confidence: round(label.Confidence ?? 0),
    parents: (label.Parents ?? []).flatMap((parent) => (parent.Name ? [parent.Name] : [])),
    instances: (label.Instances ?? []).map((instance) => ({
      confidence: round(instance.Confidence ?? 0),
      bounding_box: {
        left: instance.BoundingBox?.Left ?? 0,
        top: instance.BoundingBox?.Top ?? 0,
        width: instance.BoundingBox?.Width ?? 0,
        height: instance.BoundingBox?.Height ?? 0,
      },
    })),
  };
}

function round(confidence: number): number {
  return Math.round(confidence * 1000) / 1000;
}

/** Passing errors (throttling, 5xx, timeouts) get here only once the labeling timeout leaves no more tries. */
function toFailure(error: unknown): BlobFailedData {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof InvalidImageFormatException) {
    return { code: 'INVALID_IMAGE_FORMAT', message: `The upload is not a JPEG or PNG image Rekognition can read: ${message}` };
  }
  if (error instanceof ImageTooLargeException) {
    return { code: 'IMAGE_TOO_LARGE', message };
  }
  if (error instanceof InvalidS3ObjectException) {
    // An image over 5 MB, read by Rekognition itself: AWS answers the same for a missing object
    // or bucket and for a read it was refused.
    return {
      code: 'LABELING_FAILED',
      message: `Rekognition could not read the uploaded image from the bucket (the function's role needs s3:GetObject on it): ${message}`,
    };
  }
  return { code: 'LABELING_FAILED', message: `Labeling failed: ${message}` };
}
