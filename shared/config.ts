// Typed configuration from the environment the template (or the local stack) gives each
// function. Read once, on first use, so a missing variable fails loudly and early.
import { parseAllowList, type CallbackAllowList } from './callbacks/address-policy.ts';

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigurationError(`environment variable ${name} is not set`);
  return value;
}

function number(name: string, fallback: number, min: number, max: number, kind: 'integer' | 'number' = 'number'): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  const valid = kind === 'integer' ? Number.isInteger(value) : Number.isFinite(value);
  if (!valid || value < min || value > max) {
    throw new ConfigurationError(`${name} must be ${kind === 'integer' ? 'an integer' : 'a number'} from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

const integer = (name: string, fallback: number, min: number, max: number) => number(name, fallback, min, max, 'integer');

export interface Config {
  eventsTable: string;
  readModelTable: string;
  uploadBucket: string;
  /** How long a presigned upload URL stays valid. */
  uploadUrlTtlSeconds: number;
  /** A blob never uploaded expires this long after its upload URL did. */
  expiryGraceSeconds: number;
  /** A labeling not finished this long after the upload is recorded as LABELING_FAILED. */
  labelingTimeoutSeconds: number;
  /** DetectLabels settings when the client gives none. */
  labelingDefaults: { max_labels: number; min_confidence: number };
  /** Keep uploaded images after labeling (they are deleted by default). */
  retainUploads: boolean;
  /** Uploads larger than this fail with IMAGE_TOO_LARGE. */
  maxImageBytes: number;
  /** Hosts and ranges a callback may reach beyond public addresses (`CallbackAllowedHosts`). */
  callbackAllowList: CallbackAllowList;
}

function allowList(name: string): CallbackAllowList {
  try {
    return parseAllowList(process.env[name] ?? '');
  } catch (error) {
    throw new ConfigurationError(`${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

let cached: Config | undefined;

export function config(): Config {
  cached ??= {
    eventsTable: required('EVENTS_TABLE'),
    readModelTable: required('READ_MODEL_TABLE'),
    uploadBucket: required('UPLOAD_BUCKET'),
    uploadUrlTtlSeconds: integer('UPLOAD_URL_TTL_SECONDS', 900, 1, 7 * 24 * 3600),
    expiryGraceSeconds: integer('EXPIRY_GRACE_SECONDS', 300, 0, 7 * 24 * 3600),
    labelingTimeoutSeconds: integer('LABELING_TIMEOUT_SECONDS', 3600, 1, 7 * 24 * 3600),
    labelingDefaults: {
      max_labels: integer('LABELS_MAX', 20, 1, 100),
      min_confidence: number('LABELS_MIN_CONFIDENCE', 50, 0, 100),
    },
    retainUploads: process.env.RETAIN_UPLOADS === 'true',
    maxImageBytes: integer('MAX_IMAGE_BYTES', 15 * 1024 * 1024, 1, 15 * 1024 * 1024),
    callbackAllowList: allowList('CALLBACK_ALLOWED_HOSTS'),
  };
  return cached;
}

/** The Standard Webhooks signing secret (`whsec_` + base64), read only where callbacks are sent. */
export function callbackSigningSecret(): string {
  const secret = required('CALLBACK_SIGNING_SECRET');
  if (!/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/.test(secret)) {
    throw new ConfigurationError('CALLBACK_SIGNING_SECRET must be whsec_ followed by at least 24 base64-encoded bytes');
  }
  return secret;
}

/** Who may call the API (template parameter AuthMode): each mode names the caller differently. */
export type AuthMode = 'ApiKey' | 'Jwt' | 'None';

/**
 * The deployment's AuthMode. Unset or unknown is a configuration error, not "open": an HTTP
 * function that cannot tell the mode answers 500 rather than serve anyone.
 */
export function authMode(): AuthMode {
  const mode = required('AUTH_MODE');
  if (mode !== 'ApiKey' && mode !== 'Jwt' && mode !== 'None') {
    throw new ConfigurationError(`AUTH_MODE must be ApiKey, Jwt or None, got "${mode}"`);
  }
  return mode;
}

/** The API keys table, read only by the authorizer (and `npm run api-keys`). */
export function apiKeysTable(): string {
  return required('API_KEYS_TABLE');
}

/** The labeling queue, which the labeler puts a message back into to be tried again later. */
export function labelingQueueUrl(): string {
  return required('LABELING_QUEUE_URL');
}

/**
 * The DetectLabels calls a second this deployment may make (`RekognitionTransactionsPerSecond`):
 * throttled images are spread over the time the labeling queue takes to drain at this rate.
 */
export function rekognitionTransactionsPerSecond(): number {
  return integer('REKOGNITION_TPS', 50, 1, 100_000);
}

/** Where callbacks wait between attempts, and where one goes when its retry window is used up. */
export function callbackQueues(): { queueUrl: string; deadLetterQueueUrl: string } {
  return { queueUrl: required('CALLBACK_QUEUE_URL'), deadLetterQueueUrl: required('CALLBACK_DEAD_LETTER_QUEUE_URL') };
}

/** How long a callback is retried (from the blob's end, or its redrive), and the first delay, which then doubles. */
export function callbackRetry(): { windowSeconds: number; firstDelaySeconds: number } {
  return {
    windowSeconds: integer('CALLBACK_RETRY_WINDOW_SECONDS', 86_400, 0, 7 * 24 * 3600),
    firstDelaySeconds: integer('CALLBACK_FIRST_RETRY_SECONDS', 30, 1, 3600),
  };
}
