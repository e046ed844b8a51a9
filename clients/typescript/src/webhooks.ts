// The payloads the service POSTs to a blob's callback_url (openapi.yaml `webhooks:`). Verify the
// signature first (any Standard Webhooks library), then narrow on `type`.
import type { components, webhooks } from './generated/openapi.js';

type Schemas = components['schemas'];
export type WebhookPayload = Schemas['WebhookPayload'];
export type BlobCompletedWebhook = Schemas['BlobCompletedWebhook'];
export type BlobFailedWebhook = Schemas['BlobFailedWebhook'];
export type BlobExpiredWebhook = Schemas['BlobExpiredWebhook'];
export type WebhookBlob = Schemas['WebhookBlob'];
export type WebhookType = WebhookPayload['type'];
/** The headers every delivery carries (webhook-id, webhook-timestamp, webhook-signature). */
export type WebhookHeaders = webhooks['blobEnded']['post']['parameters']['header'];
