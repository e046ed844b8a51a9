// A Node program: labelImage takes a path, errors are classes, webhook payloads narrow on type.
import { ImageLabelingClient, ProblemError, type FinalBlob, type WebhookPayload } from '@image-labeling/client';

const client = new ImageLabelingClient({ baseUrl: 'http://127.0.0.1:3000', apiKey: 'key' });

export async function label(): Promise<string[]> {
  try {
    const blob: FinalBlob = await client.labelImage('photo.jpg', { max_labels: 5, min_confidence: 40, timeoutMs: 60_000 });
    if (blob.invocation_status === 'FAILED') return [blob.failure?.code ?? 'unknown'];
    return blob.labels ?? [];
  } catch (error) {
    if (error instanceof ProblemError) return [String(error.status), ...error.errors.map((entry) => entry.detail)];
    throw error;
  }
}

export function describe(payload: WebhookPayload): string {
  switch (payload.type) {
    case 'blob.completed':
      return payload.data.labels.join(', ');
    case 'blob.failed':
      return payload.data.failure.code;
    case 'blob.expired':
      return payload.data.invocation_status;
  }
}

export const page = client.listBlobs({ status: 'COMPLETED', label: 'Cat' });
