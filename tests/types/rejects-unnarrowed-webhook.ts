// TS18048: only a blob.completed payload surely has labels; narrow on `type` first.
import type { WebhookPayload } from '@image-labeling/client';

export const labels = (payload: WebhookPayload): string => payload.data.labels.join(', ');
