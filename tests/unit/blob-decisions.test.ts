// Every command the product runs on a blob, as given/when/then specifications: given the log,
// when the decision runs, then the event it appends (or nothing). The "nothing" cases are what
// make the consumers idempotent: a duplicate or late delivery decides nothing.
import { describe, it } from 'vitest';
import { decideCreate, decideExpire, decideLabelingResult, decideLabelingTimeout, decideUpload } from '../../shared/blob/decisions.ts';
import type { BlobEvent, BlobFailedData } from '../../shared/blob/events.ts';
import { given } from '../support/decider-spec.ts';
import { at, blobCreated, blobExpired, blobFailed, blobLabeled, blobUploaded, labelingResult, newBlobId } from '../support/blob-events.ts';

const id = newBlobId();
const hook = 'https://example.com/hooks/labels';
const upload = { bucket: 'uploads', key: `uploads/${id}`, expires_at: at(900).toISOString() };
const labeling = { max_labels: 10, min_confidence: 50 };
const object = { bucket: 'uploads', key: `uploads/${id}`, size_bytes: 1234 };
const tooSmall: BlobFailedData = { code: 'IMAGE_TOO_SMALL', message: 'The image is 64x48 px; it must be at least 80 px a side.' };

const created = blobCreated(id);
const createdWithHook = blobCreated(id, { callbackUrl: hook });
const uploaded = blobUploaded(id);

/** Each way a blob can end; none of them is ever left by a decision. */
const ended: [string, [BlobEvent, ...BlobEvent[]]][] = [
  ['labeled', [created, uploaded, blobLabeled(id)]],
  ['failed', [created, uploaded, blobFailed(id)]],
  ['expired', [created, blobExpired(id)]],
];

describe('create (POST /blobs)', () => {
  it('starts the log at version 1, waiting for the upload', () => {
    given()
      .when(() => decideCreate(id, at(0), { upload, labeling, callback_url: hook, owner: 'alice' }))
      .then(createdWithHook)
      .andState({ version: 1, invocation_status: 'ACTION_REQUIRED', owner: 'alice', callback_url: hook, requested_on: at(0).toISOString() });
  });

  it('leaves the callback_url out, not undefined, when the client gave none', () => {
    given()
      .when(() => decideCreate(id, at(0), { upload, labeling, owner: 'alice' }))
      .then(created);
  });
});

describe('record the upload (S3 Object Created)', () => {
  it('accepts the first upload: IN_PROGRESS from then', () => {
    given(created)
      .when((state) => decideUpload(state, at(10), object))
      .then(uploaded)
      .andState({ version: 2, invocation_status: 'IN_PROGRESS', started_on: at(10).toISOString() });
  });

  it("keeps S3's ETag when the notification has one", () => {
    given(created)
      .when((state) => decideUpload(state, at(10), { ...object, etag: 'b1cc0ae5' }))
      .then({ ...uploaded, data: { ...uploaded.data, etag: 'b1cc0ae5' } });
  });

  it('ignores a second upload, or the same notification delivered again', () => {
    given(created, uploaded)
      .when((state) => decideUpload(state, at(11), { ...object, size_bytes: 99 }))
      .thenNothing();
  });

  it.each(ended)('ignores an upload once the blob is %s', (_ending, log) => {
    given(...log)
      .when((state) => decideUpload(state, at(2000), object))
      .thenNothing();
  });
});

describe("record labeling's result (the labeler, or the labeling queue giving up)", () => {
  it('accepts labels for the upload being labeled: COMPLETED, the callback_url repeated for routing', () => {
    given(createdWithHook, uploaded)
      .when((state) => decideLabelingResult(state, 2, at(20), { labeled: labelingResult }))
      .then(blobLabeled(id, { callbackUrl: hook }))
      .andState({ version: 3, invocation_status: 'COMPLETED', completed_on: at(20).toISOString(), ...labelingResult });
  });

  it('accepts a failure with its reason code: FAILED, the failure alone in the state', () => {
    given(createdWithHook, uploaded)
      .when((state) => decideLabelingResult(state, 2, at(20), { failed: tooSmall }))
      .then(blobFailed(id, { failure: tooSmall, callbackUrl: hook }))
      .andState({ invocation_status: 'FAILED', failure: tooSmall });
  });

  it('writes no callback_url for a blob without one', () => {
    given(created, uploaded)
      .when((state) => decideLabelingResult(state, 2, at(20), { labeled: labelingResult }))
      .then(blobLabeled(id));
  });

  it('ignores a result for another upload than the one in progress', () => {
    given(created, uploaded)
      .when((state) => decideLabelingResult(state, 3, at(20), { labeled: labelingResult }))
      .thenNothing();
  });

  it('ignores a result before any upload', () => {
    given(created)
      .when((state) => decideLabelingResult(state, 1, at(20), { labeled: labelingResult }))
      .thenNothing();
  });

  it.each(ended)('ignores a duplicate or late result once the blob is %s', (_ending, log) => {
    given(...log)
      .when((state) => decideLabelingResult(state, 2, at(30), { failed: { code: 'LABELING_FAILED', message: 'late' } }))
      .thenNothing();
  });
});

describe('expire (the sweep, for a blob never uploaded)', () => {
  const grace = 300;

  it('expires it once the upload URL expired plus the grace period', () => {
    given(createdWithHook)
      .when((state) => decideExpire(state, at(900 + grace), grace))
      .then(blobExpired(id, { occurredAt: at(900 + grace), uploadExpiredAt: at(900), callbackUrl: hook }))
      .andState({ version: 2, invocation_status: 'EXPIRED', expired_on: at(900 + grace).toISOString() });
  });

  it('waits out the grace period: an upload S3 took just in time is still on its way', () => {
    given(created)
      .when((state) => decideExpire(state, at(900 + grace - 1), grace))
      .thenNothing();
  });

  it('never expires an uploaded blob', () => {
    given(created, uploaded)
      .when((state) => decideExpire(state, at(5000), grace))
      .thenNothing();
  });

  it.each(ended)('leaves a blob that is %s alone (the sweep runs again and again)', (_ending, log) => {
    given(...log)
      .when((state) => decideExpire(state, at(9000), grace))
      .thenNothing();
  });
});

describe('time out labeling (the sweep, for a labeling that never reported back)', () => {
  const timeout = 60;
  const timedOut: BlobFailedData = { code: 'LABELING_FAILED', message: 'Labeling did not finish within 60 s of the upload.' };

  it('fails the blob LABELING_FAILED once the timeout has passed since the upload', () => {
    given(createdWithHook, uploaded)
      .when((state) => decideLabelingTimeout(state, at(10 + timeout), timeout))
      .then(blobFailed(id, { occurredAt: at(10 + timeout), failure: timedOut, callbackUrl: hook }))
      .andState({ invocation_status: 'FAILED', failure: timedOut });
  });

  it('gives the labeler until the timeout', () => {
    given(created, uploaded)
      .when((state) => decideLabelingTimeout(state, at(10 + timeout - 1), timeout))
      .thenNothing();
  });

  it('has nothing to time out before the upload', () => {
    given(created)
      .when((state) => decideLabelingTimeout(state, at(5000), timeout))
      .thenNothing();
  });

  it.each(ended)('leaves a blob that is %s alone', (_ending, log) => {
    given(...log)
      .when((state) => decideLabelingTimeout(state, at(9000), timeout))
      .thenNothing();
  });
});
