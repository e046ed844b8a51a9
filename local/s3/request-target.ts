import { S3Error } from './errors.ts';

// The request target exactly as it came over the wire. SigV4 for S3 signs the
// path as sent (no re-normalisation), so the raw path must be kept, and query
// parameters are kept both raw (for forwarding untouched) and decoded (for the
// canonical query, which re-encodes them).
export interface RequestTarget {
  readonly path: string;
  readonly params: readonly QueryParam[];
}

export interface QueryParam {
  readonly rawName: string;
  readonly raw: string;
  readonly name: string;
  readonly value: string;
}

export function parseRequestTarget(url: string): RequestTarget {
  const queryStart = url.indexOf('?');
  const path = queryStart === -1 ? url : url.slice(0, queryStart);
  const query = queryStart === -1 ? '' : url.slice(queryStart + 1);
  const params = query === '' ? [] : query.split('&').filter((part) => part !== '').map(parseParam);
  return { path, params };
}

function parseParam(raw: string): QueryParam {
  const eq = raw.indexOf('=');
  const rawName = eq === -1 ? raw : raw.slice(0, eq);
  const rawValue = eq === -1 ? '' : raw.slice(eq + 1);
  return { rawName, raw, name: decodeComponent(rawName), value: decodeComponent(rawValue) };
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new S3Error('InvalidArgument', 'The request query string is not correctly URL-encoded.');
  }
}

/** Query parameters in the shape @smithy/signature-v4 canonicalises (repeated names become arrays). */
export function toQueryBag(params: readonly QueryParam[]): Record<string, string | string[]> {
  const bag: Record<string, string | string[]> = {};
  for (const { name, value } of params) {
    const existing = bag[name];
    if (existing === undefined) bag[name] = value;
    else bag[name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return bag;
}

/** Case-sensitive lookup, as S3 treats the X-Amz-* query auth names. */
export function queryValue(target: RequestTarget, name: string): string | undefined {
  return target.params.find((param) => param.name === name)?.value;
}

export function queryValueIgnoringCase(target: RequestTarget, name: string): string | undefined {
  const lower = name.toLowerCase();
  return target.params.find((param) => param.name.toLowerCase() === lower)?.value;
}

/** Rebuilds the target without some parameters, keeping the others byte for byte. */
export function formatTargetWithout(target: RequestTarget, dropped: ReadonlySet<string>): string {
  const kept = target.params.filter((param) => !dropped.has(param.name.toLowerCase()));
  return kept.length === 0 ? target.path : `${target.path}?${kept.map((param) => param.raw).join('&')}`;
}
