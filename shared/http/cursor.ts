// Opaque pagination cursors: the store's position plus the filters it belongs to, so a
// cursor cannot silently be reused with other filters.
import { HttpProblem } from './problem.ts';

export function encodeCursor(position: Record<string, unknown>, filters: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify({ p: position, f: filters })).toString('base64url');
}

export function decodeCursor(cursor: string, filters: Record<string, unknown>): Record<string, unknown> {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('cursor is not one this API handed out');
  }
  // Valid JSON of another shape (null, a number, an array) is as foreign as invalid JSON.
  if (!isObject(decoded) || !isObject(decoded.p)) throw invalid('cursor is not one this API handed out');
  if (JSON.stringify(decoded.f) !== JSON.stringify(filters)) {
    throw invalid('cursor belongs to a listing with other filters; keep status and label as they were');
  }
  return decoded.p as Record<string, unknown>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(detail: string): HttpProblem {
  return new HttpProblem(400, `The ${detail}.`, { errors: [{ parameter: 'cursor', detail }] });
}
