// The shapes of the HTTP API's requests and resources, defined once here: `npm run generate`
// writes them into openapi.yaml's components.schemas (the contract users read; the types,
// validators and typed client are generated from it). Event building blocks are shared with
// shared/blob/events.ts, so a blob reads as its events say. CONTRIBUTING.md has the recipes.
import * as z from 'zod';
import {
  BlobId,
  CallbackUrl,
  Failure,
  ImageContentType,
  Label,
  LabelingResult,
  Timestamp,
  blobEventSchemas,
} from '../blob/events.ts';

export const InvocationStatus = z.enum(['ACTION_REQUIRED', 'IN_PROGRESS', 'COMPLETED', 'FAILED', 'EXPIRED']).meta({
  id: 'InvocationStatus',
  description: [
    '`ACTION_REQUIRED` until the image is uploaded, `IN_PROGRESS` while it is labeled,',
    'then `COMPLETED` (with `labels`) or `FAILED` (with `failure`). `EXPIRED` when no',
    'image arrived before the upload URL expired (plus a grace period).',
  ].join('\n'),
});

export const CreateBlobRequest = z
  .strictObject({
    callback_url: z
      .url({ protocol: /^https?$/i })
      .max(2048)
      // zod's protocol check has no JSON Schema form: the pattern says it to the validator.
      .meta({ format: 'uri', pattern: '^[Hh][Tt][Tt][Pp][Ss]?://' })
      .describe('An absolute http(s) URL that receives a signed POST when labeling ends.')
      .optional(),
    max_labels: z.int().min(1).max(100).describe('At most this many labels (parents included); 20 when absent.').optional(),
    min_confidence: z
      .number()
      .min(0)
      .max(100)
      .describe("Leave out labels below this confidence (percent); the deployment's default when absent.")
      .optional(),
    content_type: ImageContentType.describe(
      'When given, the upload must be sent with this Content-Type or S3 refuses it.',
    ).optional(),
  })
  .meta({ id: 'CreateBlobRequest' });

export const LabelDetail = Label.meta({
  id: 'LabelDetail',
  description: 'A label with its confidence, parents and where it is in the image.',
});

/**
 * Whatever labeling produces (BlobLabeled's data) shows on the blob as it is, except `labels`,
 * which the blob gives as names (`labels`) and in full (`label_details`). So a new result
 * field needs no change here.
 */
const labelingResultFields = LabelingResult.omit({ labels: true }).partial().shape;

export const Blob = z
  .object({
    blob_id: BlobId,
    invocation_status: InvocationStatus,
    requested_on: Timestamp,
    started_on: Timestamp.optional(),
    completed_on: Timestamp.optional(),
    upload_url: z.url().describe('Presigned URL to PUT the image to; present until the image is uploaded.').optional(),
    upload_expires_on: Timestamp.optional(),
    callback_url: CallbackUrl.optional(),
    expired_on: Timestamp.optional(),
    max_labels: z.int().optional(),
    min_confidence: z.number().optional(),
    content_type: ImageContentType.describe('The Content-Type the upload URL is bound to, when one was requested.').optional(),
    labels: z.array(z.string()).describe('Label names, most confident first.').optional(),
    label_details: z
      .array(LabelDetail)
      .describe('Each label with its confidence, parents and where it is in the image.')
      .optional(),
    ...labelingResultFields,
    failure: Failure.optional(),
    _links: z.object({ status: z.url().describe('The absolute URL of this blob.') }),
  })
  .meta({ id: 'Blob' });

export const BlobPage = z
  .object({
    items: z.array(Blob),
    next_cursor: z.string().describe('Pass as `cursor` for the next page; absent on the last page.').optional(),
    _links: z.object({ self: z.url(), next: z.url().optional() }),
  })
  .meta({ id: 'BlobPage' });

export const BlobEventRecord = z
  .object({
    type: z.enum(blobEventSchemas.map((schema) => schema.eventType)),
    version: z.int().min(1),
    schema_version: z.int(),
    occurred_at: Timestamp,
    data: z.looseObject({}),
  })
  .meta({
    id: 'BlobEventRecord',
    description: 'One event as it is stored and published; events/ has a JSON Schema for each type.',
  });

export const BlobEventLog = z
  .object({ blob_id: BlobId, events: z.array(BlobEventRecord) })
  .meta({ id: 'BlobEventLog' });

export const ProblemFieldError = z
  .object({
    pointer: z.string().describe('For a body field: a JSON Pointer into the request body, e.g. `#/callback_url`.').optional(),
    parameter: z.string().describe('For a path or query parameter: its name, e.g. `limit`.').optional(),
    detail: z.string().describe('What was wrong, for people.'),
  })
  .meta({ id: 'ProblemFieldError', description: 'One place in the request that was wrong: a body field or a parameter.' });

export const Problem = z
  .object({
    type: z.string().describe('A URI reference naming the problem type.'),
    title: z.string(),
    status: z.int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(ProblemFieldError).describe('Each place in the request that was wrong.').optional(),
  })
  .meta({ id: 'Problem', description: 'An RFC 9457 problem document.' });

/** The blob as of its final event, as a webhook carries it: a Blob without its links and upload URL. */
export const WebhookBlob = Blob.omit({ _links: true, upload_url: true, upload_expires_on: true }).meta({
  id: 'WebhookBlob',
  description: 'The blob as of its final event; a `Blob` without `_links` and the upload URL.',
});

function webhook<const Type extends string, Data extends z.ZodType>(id: string, type: Type, data: Data) {
  return z
    .object({
      type: z.literal(type),
      timestamp: Timestamp.describe('When the blob ended (the time of its final event).'),
      data,
    })
    .meta({ id });
}

export const BlobCompletedWebhook = webhook(
  'BlobCompletedWebhook',
  'blob.completed',
  z.intersection(
    WebhookBlob,
    z.object({ invocation_status: z.literal('COMPLETED'), labels: z.array(z.string()).describe('Label names, most confident first.') }),
  ),
);
export const BlobFailedWebhook = webhook(
  'BlobFailedWebhook',
  'blob.failed',
  z.intersection(WebhookBlob, z.object({ invocation_status: z.literal('FAILED'), failure: Failure })),
);
export const BlobExpiredWebhook = webhook(
  'BlobExpiredWebhook',
  'blob.expired',
  z.intersection(WebhookBlob, z.object({ invocation_status: z.literal('EXPIRED') })),
);

/** The body of every webhook (openapi.yaml's `webhooks:`); the client package exports its types. */
export const WebhookPayload = z
  .discriminatedUnion('type', [BlobCompletedWebhook, BlobFailedWebhook, BlobExpiredWebhook])
  .meta({ id: 'WebhookPayload', description: 'The body of a webhook; `type` tells which.' });

/** The schemas openapi.yaml names (with every definition they use), in its order. */
export const openApiSchemas = [
  BlobId,
  CreateBlobRequest,
  InvocationStatus,
  Failure,
  Blob,
  LabelDetail,
  BlobPage,
  BlobEventLog,
  BlobEventRecord,
  Problem,
  WebhookPayload,
  BlobCompletedWebhook,
  BlobFailedWebhook,
  BlobExpiredWebhook,
  WebhookBlob,
] as const;

/** The request bodies among them: closed (an unknown field is refused); everything else is open. */
export const openApiRequestSchemas = [CreateBlobRequest] as const;

export type InvocationStatus = z.infer<typeof InvocationStatus>;
export type BlobResource = z.infer<typeof Blob>;
export type ProblemFieldError = z.infer<typeof ProblemFieldError>;
export type ProblemDocument = z.infer<typeof Problem>;
