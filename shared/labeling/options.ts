import type { LabelingOptions } from './detect-labels.ts';

function numberFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  return Number.isFinite(value) ? value : fallback;
}

/** DetectLabels settings; defaults chosen on real photos (see README, "Labels"). */
export function labelingOptions(): LabelingOptions {
  return {
    maxLabels: numberFromEnv('LABELS_MAX', 20),
    minConfidence: numberFromEnv('LABELS_MIN_CONFIDENCE', 50),
  };
}
