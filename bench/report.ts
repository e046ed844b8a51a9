// Small statistics and the printed table.

/** Nearest-rank percentile (p in 0-100) of unsorted numbers; NaN when there are none. */
export function percentile(values: number[], p: number): number {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export const median = (values: number[]): number => percentile(values, 50);

export interface Row {
  metric: string;
  value: string;
  target?: string;
  /** undefined: informational, no target. */
  pass?: boolean;
}

export function row(metric: string, value: string, check?: { target: string; pass: boolean }): Row {
  return check ? { metric, value, target: check.target, pass: check.pass } : { metric, value };
}

export function ms(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(0)} ms` : 'n/a';
}

export function fixed(value: number, digits: number, unit = ''): string {
  return Number.isFinite(value) ? `${value.toFixed(digits)}${unit}` : 'n/a';
}

/** A measured figure against its target; a figure that could not be measured (NaN) misses. */
export function atMost(value: number, limit: number, text: string): { target: string; pass: boolean } {
  return { target: text, pass: Number.isFinite(value) && value <= limit };
}

export function atLeast(value: number, limit: number, text: string): { target: string; pass: boolean } {
  return { target: text, pass: Number.isFinite(value) && value >= limit };
}

export function formatTable(rows: Row[]): string {
  const cells = rows.map((r) => [r.metric, r.value, r.target ?? '', r.pass === undefined ? '' : r.pass ? 'PASS' : 'MISS']);
  const header = ['metric', 'value', 'target', 'result'];
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((line) => line[column]!.length)));
  const format = (line: string[]) => line.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ').trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('-|-');
  return [format(header), rule, ...cells.map(format)].join('\n');
}
