// `npm start`: the whole service on this machine. Configuration is by environment variable
// (see README, "Configuration").
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { authParameters } from './auth-settings.ts';
import { stackLogger } from './log.ts';
import { startStack } from './stack.ts';

function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'template.yaml'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no template.yaml above ${from}`);
  }
}

function port(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${name} must be a port number`);
  return value;
}

// `node --import tsx local/main.ts` runs the source; `npm start` runs this file compiled into a
// folder under .local-build/ (see start.mjs). The project root is where template.yaml is.
const codeRoot = resolve(fileURLToPath(new URL('../', import.meta.url)));
const projectRoot = findProjectRoot(codeRoot);

const parameterOverrides: Record<string, string> = {};
if (process.env.UPLOAD_URL_TTL_SECONDS) parameterOverrides.UploadUrlTtlSeconds = process.env.UPLOAD_URL_TTL_SECONDS;
if (process.env.LABELS_MAX) parameterOverrides.LabelsMax = process.env.LABELS_MAX;
if (process.env.EXPIRY_GRACE_SECONDS) parameterOverrides.ExpiryGraceSeconds = process.env.EXPIRY_GRACE_SECONDS;
if (process.env.LABELING_TIMEOUT_SECONDS) parameterOverrides.LabelingTimeoutSeconds = process.env.LABELING_TIMEOUT_SECONDS;
if (process.env.MAX_IMAGE_BYTES) parameterOverrides.MaxImageBytes = process.env.MAX_IMAGE_BYTES;
if (process.env.LABELING_CONCURRENCY) parameterOverrides.LabelingConcurrency = process.env.LABELING_CONCURRENCY;
// The local Rekognition's quota (LOCAL_REKOGNITION_TPS) is what this deployment may use, as the
// account's would be in AWS, unless REKOGNITION_TPS says otherwise.
const rekognitionTps = process.env.REKOGNITION_TPS || process.env.LOCAL_REKOGNITION_TPS;
if (rekognitionTps) parameterOverrides.RekognitionTransactionsPerSecond = rekognitionTps;
if (process.env.CALLBACK_RETRY_WINDOW_SECONDS) parameterOverrides.CallbackRetryWindowSeconds = process.env.CALLBACK_RETRY_WINDOW_SECONDS;
if (process.env.CALLBACK_FIRST_RETRY_SECONDS) parameterOverrides.CallbackFirstRetrySeconds = process.env.CALLBACK_FIRST_RETRY_SECONDS;
// A fixed development secret, so local webhooks can be verified; set your own to change it.
parameterOverrides.CallbackSigningSecret =
  process.env.CALLBACK_SIGNING_SECRET ?? 'whsec_bG9jYWwtZGV2ZWxvcG1lbnQtc2lnbmluZy1zZWNyZXQ=';
// A developer's receiver on this machine works; nothing else private does (set '' to refuse it too).
parameterOverrides.CallbackAllowedHosts = process.env.CALLBACK_ALLOWED_HOSTS ?? '127.0.0.0/8,::1';
if (process.env.RETAIN_UPLOADS) parameterOverrides.RetainUploads = process.env.RETAIN_UPLOADS;
// The local detector's raw scores run lower than Rekognition's calibrated ones (a cat that
// Rekognition puts at 95 scores ~47 here), so the local default threshold is lower too.
parameterOverrides.LabelsMinConfidence = process.env.LABELS_MIN_CONFIDENCE ?? '35';
// The webhook (an API destination): the template's parameters and Rules check these, and a
// refusal names the variable, not the parameter.
const webhookVariables: Record<string, string> = {
  WebhookEndpoint: 'WEBHOOK_ENDPOINT',
  WebhookAuthorization: 'WEBHOOK_AUTHORIZATION',
  WebhookApiKeyName: 'WEBHOOK_API_KEY_NAME',
  WebhookApiKeyValue: 'WEBHOOK_API_KEY_VALUE',
  WebhookBasicUser: 'WEBHOOK_BASIC_USER',
  WebhookBasicPassword: 'WEBHOOK_BASIC_PASSWORD',
  WebhookOAuthTokenUrl: 'WEBHOOK_OAUTH_TOKEN_URL',
  WebhookOAuthClientId: 'WEBHOOK_OAUTH_CLIENT_ID',
  WebhookOAuthClientSecret: 'WEBHOOK_OAUTH_CLIENT_SECRET',
  WebhookOAuthScope: 'WEBHOOK_OAUTH_SCOPE',
  WebhookEvents: 'WEBHOOK_EVENTS',
  WebhookRateLimitPerSecond: 'WEBHOOK_RATE_LIMIT_PER_SECOND',
};
for (const [parameter, variable] of Object.entries(webhookVariables)) {
  const value = process.env[variable];
  if (value !== undefined) parameterOverrides[parameter] = value;
}
const inVariables = (message: string) =>
  message.replace(/\bWebhook[A-Za-z]+\b/g, (name) => (webhookVariables[name] ? `${webhookVariables[name]} (${name})` : name));

const host = process.env.HOST ?? '127.0.0.1';
try {
  Object.assign(parameterOverrides, authParameters(process.env, host));
} catch (error) {
  // One plain line on stderr, not a log record: the person starting the stack reads it.
  console.error(`npm start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

// The last line of defence, not the plan: every server and delivery loop of the stack catches
// its own failures (local/http-safety.ts, durable-queue.ts). Whatever still slips through is
// a bug to fix, logged as one, and must not take every other client's requests down with it.
process.on('unhandledRejection', (reason) => {
  stackLogger.error('unhandled rejection (a bug in the local stack)', {
    error: reason instanceof Error ? (reason.stack ?? reason.message) : String(reason),
  });
});

try {
  const stack = await startStack({
    projectRoot,
    ...(codeRoot !== projectRoot && { compiledRoot: codeRoot }),
    dataDirectory: process.env.DATA_DIR ?? '.local-data',
    host,
    port: port('PORT', 3000),
    s3Port: port('S3_PORT', 4569),
    detectorWorkers: Number(process.env.DETECTOR_WORKERS ?? Math.min(2, availableParallelism())),
    parameterOverrides,
    ...(process.env.SCHEDULE_INTERVAL_SECONDS && { scheduleIntervalMs: Number(process.env.SCHEDULE_INTERVAL_SECONDS) * 1000 }),
  });
  const stop = async (signal: string) => {
    stackLogger.info('stopping', { signal });
    await stack.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
} catch (error) {
  stackLogger.error('could not start', { error: inVariables(error instanceof Error ? error.message : String(error)) });
  process.exit(1);
}
