/**
 * What the model is called, apart from the model itself: the HTTP server (main thread) needs the
 * name, and importing model.ts for it would load tfjs into the main thread (~40 MB RSS) where
 * nothing ever runs it; only the detector workers load tfjs.
 */
export const MODEL_NAME = 'centernet-coco80';
