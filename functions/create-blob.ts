// POST /blobs: record a new blob and hand back where to upload its image.
import { monotonicFactory } from 'ulid';
import { callbackUrlRefusal } from '../shared/callbacks/address-policy.ts';
import { decideCreate } from '../shared/blob/decisions.ts';
import { toBlobResource } from '../shared/blob/representation.ts';
import { evolve } from '../shared/blob/state.ts';
import { config } from '../shared/config.ts';
import { eventStore } from '../shared/event-store/index.ts';
import { callerOf } from '../shared/http/caller.ts';
import { request as createBlobRequest } from '../shared/generated/operations/createBlob.js';
import { httpHandler, type HttpEvent } from '../shared/http/handler.ts';
import { HttpProblem } from '../shared/http/problem.ts';
import { json } from '../shared/http/responses.ts';
import { absoluteUrl } from '../shared/http/urls.ts';
import { logger } from '../shared/logger.ts';
import { presignUpload, uploadKey } from '../shared/storage/uploads.ts';

const newBlobId = monotonicFactory();

/** What is known without DNS is refused now; a host name's addresses are checked on delivery. */
function assertAllowedCallback(callbackUrl: string | undefined): void {
  const refusal = callbackUrl === undefined ? null : callbackUrlRefusal(callbackUrl, config().callbackAllowList);
  if (refusal) {
    throw new HttpProblem(400, `callback_url ${refusal.detail}.`, {
      errors: [{ pointer: '#/callback_url', detail: `callback_url ${refusal.detail}` }],
    });
  }
}

async function createBlob(event: HttpEvent<'createBlob'>) {
  const request = event.body ?? {};
  assertAllowedCallback(request.callback_url);

  const now = new Date();
  const blobId = newBlobId(now.getTime());
  logger.appendKeys({ blob_id: blobId });
  const { uploadBucket, uploadUrlTtlSeconds, labelingDefaults } = config();
  const created = decideCreate(blobId, now, {
    upload: {
      bucket: uploadBucket,
      key: uploadKey(blobId),
      // A signature is dated in whole seconds and lasts whole seconds: from the next whole
      // second, this is exactly when the URL expires, and never sooner than the TTL promises.
      expires_at: new Date(Math.ceil(now.getTime() / 1000) * 1000 + uploadUrlTtlSeconds * 1000).toISOString(),
      ...(request.content_type && { content_type: request.content_type }),
    },
    labeling: {
      max_labels: request.max_labels ?? labelingDefaults.max_labels,
      min_confidence: request.min_confidence ?? labelingDefaults.min_confidence,
    },
    ...(request.callback_url && { callback_url: request.callback_url }),
    owner: callerOf(event).owner,
  });
  // A fresh ULID has no log to read: the conditional put alone guards version 1.
  await eventStore().append(created);
  const state = evolve(undefined, created)!;

  const self = absoluteUrl(event, `/blobs/${blobId}`);
  const upload = await presignUpload(state.upload, now);
  logger.info('blob created');
  return json(201, toBlobResource(state, { self, upload }), { location: self });
}

export const handler = httpHandler(createBlobRequest, createBlob);
