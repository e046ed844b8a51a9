// Typed configuration from the environment the template (or the local stack) gives each
// function. Read once, on first use, so a missing variable fails loudly and early.

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigurationError(`environment variable ${name} is not set`);
  return value;
}

function integer(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

export interface Config {
  eventsTable: string;
  uploadBucket: string;
  /** How long a presigned upload URL stays valid. */
  uploadUrlTtlSeconds: number;
}

let cached: Config | undefined;

export function config(): Config {
  cached ??= {
    eventsTable: required('EVENTS_TABLE'),
    uploadBucket: required('UPLOAD_BUCKET'),
    uploadUrlTtlSeconds: integer('UPLOAD_URL_TTL_SECONDS', 900, 1, 7 * 24 * 3600),
  };
  return cached;
}
