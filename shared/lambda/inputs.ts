// What the functions parse at their boundaries (the log's items, the stream's new images, the
// queues' messages), defined once here in zod from the event definitions. Build time only:
// `npm run generate` compiles each to an Ajv standalone validator in
// shared/generated/inputs/<name>.js (scripts/inputs.ts), which is what runs, so no function
// bundles zod (58-96 KB and ~45 ms of import each, bench/README.md). Functions import this module
// for its types only (`import type`; ESLint refuses a value import).
import * as z from 'zod';
import { BlobEvent, BlobUploaded } from '../blob/events.ts';

/** An EventBridge event as a rule delivers it to a target (AWS's documented envelope), its detail being `detail`. */
export function eventBridgeEvent<T extends z.ZodType>(detail: T) {
  return z.object({
    version: z.string(),
    id: z.string(),
    'detail-type': z.string(),
    source: z.string(),
    account: z.string(),
    time: z.iso.datetime(),
    region: z.string(),
    resources: z.array(z.string()),
    detail,
    'replay-name': z.string().optional(),
  });
}

/**
 * Each input a function parses, by the name of its generated validator. An envelope and its
 * detail are validated apart (parse.ts composes them: `eventBridgeEvent(validated(blobEvent))`),
 * so that a function reading both the log and a queue bundles the blob event's validator once.
 */
export const inputs = {
  /** Any blob event: an item of the event log (the event store's reads, a stream record's new image), or a queued event's detail. */
  blobEvent: BlobEvent,
  /** The detail of what the labeling queue (and its dead letters) holds. */
  blobUploaded: BlobUploaded,
  /** An EventBridge event as a rule queued it, its detail left to the validator of what it must be. */
  eventBridgeEvent: eventBridgeEvent(z.unknown()),
} as const;

/** What a queue holds, composed as the functions parse it: for the tests that hold both checkers to agree. */
export const queuedInputs = {
  queuedBlobEvent: eventBridgeEvent(BlobEvent),
  queuedBlobUploaded: eventBridgeEvent(BlobUploaded),
} as const;

export type InputName = keyof typeof inputs;
/** What the validator named `Name` lets through, typed as its zod definition infers it. */
export type Input<Name extends InputName> = z.infer<(typeof inputs)[Name]>;
/** An EventBridge event whose detail is a `Detail`. */
export type EventBridgeEvent<Detail> = Omit<Input<'eventBridgeEvent'>, 'detail'> & { detail: Detail };
