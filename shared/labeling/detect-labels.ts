// Rekognition DetectLabels in, our label shape out. Every answer, including every error,
// becomes an outcome: a labeling ends as labels or as a failure with a reason code.
import {
  DetectLabelsCommand,
  ImageTooLargeException,
  InvalidImageFormatException,
  type Label as RekognitionLabel,
} from '@aws-sdk/client-rekognition';
import { rekognition } from '../aws/rekognition.ts';
import type { BlobFailedData, BlobLabeledData, ImageInfo, Label, LabelingSettings } from '../blob/events.ts';

export type LabelingOutcome = { labeled: BlobLabeledData } | { failed: BlobFailedData };

export async function detectLabels(
  object: { bucket: string; key: string },
  image: ImageInfo,
  settings: LabelingSettings,
): Promise<LabelingOutcome> {
  try {
    const response = await rekognition().send(
      new DetectLabelsCommand({
        Image: { S3Object: { Bucket: object.bucket, Name: object.key } },
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
    return { failed: toFailure(error) };
  }
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

/** The SDK has already retried transient errors (throttling, 5xx, timeouts) with backoff. */
function toFailure(error: unknown): BlobFailedData {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof InvalidImageFormatException) {
    return { code: 'INVALID_IMAGE_FORMAT', message: `The upload is not a JPEG or PNG image Rekognition can read: ${message}` };
  }
  if (error instanceof ImageTooLargeException) {
    return { code: 'IMAGE_TOO_LARGE', message };
  }
  return { code: 'LABELING_FAILED', message: `Labeling failed after retries: ${message}` };
}
