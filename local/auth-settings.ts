// `npm start`'s choice of who may call the API (AUTH_MODE) and how often, as template
// parameters, and its protected mode: an open API is only for this machine.
import ipaddr from 'ipaddr.js';

export class ProtectedModeError extends Error {
  override readonly name = 'ProtectedModeError';
}

const modes: Record<string, 'ApiKey' | 'Jwt' | 'None'> = { 'api-key': 'ApiKey', jwt: 'Jwt', none: 'None' };

/** Only this machine can reach an address in 127.0.0.0/8 or ::1 (or the name localhost). */
export function isLoopback(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (!ipaddr.isValid(bare)) return false;
  const address = ipaddr.process(bare); // IPv4-mapped IPv6 becomes IPv4
  return address.range() === 'loopback';
}

/** Template parameter overrides for the environment's auth and throttling settings. */
export function authParameters(env: NodeJS.ProcessEnv, host: string): Record<string, string> {
  const name = (env.AUTH_MODE ?? 'none').toLowerCase();
  const mode = modes[name];
  if (!mode) throw new Error(`AUTH_MODE must be none, api-key or jwt, not "${env.AUTH_MODE}"`);
  if (mode === 'None' && !isLoopback(host)) {
    throw new ProtectedModeError(
      `protected mode: refusing to serve an open API on HOST=${host}, where other machines can reach it ` +
        '(and the local S3, whose credentials are fixed); set AUTH_MODE=api-key (or jwt), or listen on 127.0.0.1',
    );
  }
  const parameters: Record<string, string> = { AuthMode: mode };
  if (mode === 'Jwt') {
    if (!env.JWT_ISSUER || !env.JWT_AUDIENCE) throw new Error('AUTH_MODE=jwt needs JWT_ISSUER and JWT_AUDIENCE');
    parameters.JwtIssuer = env.JWT_ISSUER;
    parameters.JwtAudience = env.JWT_AUDIENCE;
  }
  // Locally a revoked key stops working at once: the cache is off unless asked for (the
  // gateway honours whatever TTL the template ends up with).
  parameters.ApiKeyCacheTtlSeconds = env.AUTH_CACHE_TTL_SECONDS ?? '0';
  if (env.THROTTLING_BURST_LIMIT) parameters.ThrottlingBurstLimit = env.THROTTLING_BURST_LIMIT;
  if (env.THROTTLING_RATE_LIMIT) parameters.ThrottlingRateLimit = env.THROTTLING_RATE_LIMIT;
  return parameters;
}
