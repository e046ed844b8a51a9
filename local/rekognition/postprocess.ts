/**
 * Turns CenterNet's raw `tower_0/detections` output into detections. Pure functions, no tfjs,
 * so they run anywhere and are cheap to test.
 *
 * The output is [1, 100, 6]: x1, y1, x2, y2 (pixels of the 512x512 input), score (0-1),
 * class index (0-79, COCO order). The graph already picks the 100 best heat-map peaks but
 * does not suppress overlapping boxes, so NMS is ours to do.
 */
import { COCO_CLASSES } from './labels.ts';
import type { Letterbox } from './image.ts';

export interface BoundingBox {
  /** All four are ratios of the original (EXIF-oriented) image, 0-1, like Rekognition's. */
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface Detection {
  /** COCO class name as the model knows it, e.g. "cat", "dining table". */
  className: string;
  /** Model score, 0-1. */
  score: number;
  box: BoundingBox;
}

/** A candidate in model-input pixels, before mapping back to the photo. */
export interface RawDetection {
  classIndex: number;
  score: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface PostprocessOptions {
  /** Candidates scoring below this are dropped before NMS. */
  minScore: number;
  /** Same-class boxes overlapping more than this are duplicates of one object. */
  iouThreshold: number;
  /**
   * Boxes of different classes overlapping more than this are one object the model could not
   * make up its mind about (same heat-map centre, e.g. cat 0.47 / dog 0.17, horse / zebra);
   * keep only the best class. Set high so that real co-located objects (a cup on a table,
   * IoU ~0.77 on the coffee photo) both survive.
   */
  crossClassIouThreshold: number;
}

const ROW = 6;

export function parseDetectionRows(data: ArrayLike<number>, minScore: number): RawDetection[] {
  const out: RawDetection[] = [];
  for (let offset = 0; offset + ROW <= data.length; offset += ROW) {
    const row = readRow(data, offset);
    if (row && row.score >= minScore) out.push(row);
  }
  return out;
}

function readRow(data: ArrayLike<number>, offset: number): RawDetection | undefined {
  const v = (i: number): number => data[offset + i] ?? Number.NaN;
  const row = { x1: v(0), y1: v(1), x2: v(2), y2: v(3), score: v(4), classIndex: Math.round(v(5)) };
  const finite = [row.x1, row.y1, row.x2, row.y2, row.score].every(Number.isFinite);
  // Math.round(NaN) is NaN, which fails both comparisons.
  const knownClass = row.classIndex >= 0 && row.classIndex < COCO_CLASSES.length;
  return finite && knownClass ? row : undefined;
}

function area(d: RawDetection): number {
  return Math.max(0, d.x2 - d.x1) * Math.max(0, d.y2 - d.y1);
}

/** IoU in input pixels: the letterbox scale is uniform there, unlike in per-axis ratios. */
export function iou(a: RawDetection, b: RawDetection): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (area(a) + area(b) - inter);
}

/** Greedy NMS, best score first; class-aware with a near-duplicate rule across classes. */
export function nonMaxSuppression(candidates: RawDetection[], options: PostprocessOptions): RawDetection[] {
  const kept: RawDetection[] = [];
  const sorted = [...candidates].sort((a, b) => b.score - a.score);
  for (const candidate of sorted) {
    const suppressed = kept.some((k) => {
      const overlap = iou(k, candidate);
      const limit = k.classIndex === candidate.classIndex ? options.iouThreshold : options.crossClassIouThreshold;
      return overlap > limit;
    });
    if (!suppressed) kept.push(candidate);
  }
  return kept;
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}

/** Map a box from the letterboxed input back to ratios of the original photo (clipped to it). */
export function toImageBox(d: RawDetection, box: Letterbox): BoundingBox {
  const left = clamp01(d.x1 / box.scaledWidth);
  const top = clamp01(d.y1 / box.scaledHeight);
  const right = clamp01(d.x2 / box.scaledWidth);
  const bottom = clamp01(d.y2 / box.scaledHeight);
  return { left, top, width: Math.max(0, right - left), height: Math.max(0, bottom - top) };
}

export function postprocess(data: ArrayLike<number>, box: Letterbox, options: PostprocessOptions): Detection[] {
  const candidates = parseDetectionRows(data, options.minScore);
  return nonMaxSuppression(candidates, options)
    .map((d) => ({ className: COCO_CLASSES[d.classIndex] ?? 'unknown', score: d.score, box: toImageBox(d, box) }))
    .filter((d) => d.box.width > 0 && d.box.height > 0);
}
