// What docs/event-consumers.md says event patterns can and cannot say about a BlobLabeled's
// labels (an array of objects), checked on the local bus's matcher, which follows event-ruler.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { matchesEventPattern } from '../../local/eventbridge/pattern-matcher.ts';
import { projectRoot } from '../support/template.ts';

const sample = JSON.parse(readFileSync(`${projectRoot}events/samples/send-callback.blob-labeled.json`, 'utf8')) as {
  detail: { data: { labels: { name: string; confidence: number }[] } };
};

function labeled(labels: [string, number][]) {
  const event = structuredClone(sample);
  const template = event.detail.data.labels[0]!;
  event.detail.data.labels = labels.map(([name, confidence]) => ({ ...template, name, confidence }));
  return event;
}

const labelsPattern = (labels: Record<string, unknown>) => ({
  source: ['image-labeling.blobs'],
  'detail-type': ['BlobLabeled'],
  detail: { data: { labels } },
});

describe('patterns on the labels of BlobLabeled', () => {
  it('match when any label has the name', () => {
    const cat = labelsPattern({ name: ['Cat'] });
    expect(matchesEventPattern(cat, labeled([['Mammal', 60], ['Cat', 55]]))).toBe(true);
    expect(matchesEventPattern(cat, labeled([['Horse', 80], ['Mammal', 80]]))).toBe(false);
    expect(matchesEventPattern(cat, labeled([]))).toBe(false);
  });

  it('cannot say "no cat": anything-but matches a cat that has any other label', () => {
    const noCat = labelsPattern({ name: [{ 'anything-but': ['Cat'] }] });
    expect(matchesEventPattern(noCat, labeled([['Cat', 90], ['Mammal', 90]]))).toBe(true);
    expect(matchesEventPattern(noCat, labeled([['Horse', 90]]))).toBe(true);
  });

  it('take name and confidence from the same label locally (array-consistent, as event-ruler)', () => {
    const confidentCat = labelsPattern({ name: ['Cat'], confidence: [{ numeric: ['>', 80] }] });
    expect(matchesEventPattern(confidentCat, labeled([['Cat', 90]]))).toBe(true);
    expect(matchesEventPattern(confidentCat, labeled([['Dog', 90], ['Cat', 40]]))).toBe(false);
  });
});
