// @image-labeling/client: the entry for browsers and any runtime with fetch. Node gets node.ts
// (the same, plus file paths) through the package's `node` export condition.
export * from './client.js';
export * from './errors.js';
export * from './webhooks.js';
export { detectImageType, type ImageContentType, type ImageInput } from './image.js';
export type { components, paths, webhooks } from './generated/openapi.js';
