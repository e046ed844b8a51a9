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

/** Each input a function parses, by the name of its generated validator. */
export const inputs = {
  /** An item of the event log (read by the event store, or a stream record's new image): any blob event. */
  blobEvent: BlobEvent,
  /** A message of the projection or callback queue: any blob event, as the EventBridge rule queued it. */
  queuedBlobEvent: eventBridgeEvent(BlobEvent),
  /** A message of the labeling queue (or its dead letters): BlobUploaded, as the EventBridge rule queued it. */
  queuedBlobUploaded: eventBridgeEvent(BlobUploaded),
} as const;

export type InputName = keyof typeof inputs;
/** What the validator named `Name` lets through, typed as its zod definition infers it. */
export type Input<Name extends InputName> = z.infer<(typeof inputs)[Name]>;
