// API keys: what one looks like, how it is made and how it is checked. Used by the Lambda
// authorizer and by `npm run api-keys`, so both agree on every detail.
//
// A key is `il_live_<key id>_<secret>`: the key id (16 hex digits) names the key's row, so a
// key is found with one GetItem and revoked by its id; the secret is 32 random bytes. Only
// SHA-256 of the whole key is stored. A slow hash (bcrypt, scrypt, Argon2) is there to make
// guessing a low-entropy password from its hash expensive; a 256-bit random secret cannot be
// guessed whatever the hash costs, so a fast hash loses nothing, and a slow one would only
// make every cache miss of the authorizer cost ~100 ms of CPU that anyone could ask for.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const API_KEY_PREFIX = 'il_live_';
const KEY_PATTERN = /^il_live_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface NewApiKey {
  /** The key itself: shown once, never stored. */
  apiKey: string;
  keyId: string;
  /** What is stored: hex SHA-256 of the key. */
  keyHash: string;
}

export function generateApiKey(): NewApiKey {
  const keyId = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const apiKey = `${API_KEY_PREFIX}${keyId}_${secret}`;
  return { apiKey, keyId, keyHash: hashApiKey(apiKey) };
}

export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex');
}

/** The key id of a well-formed key; undefined for anything else. */
export function keyIdOf(apiKey: string): string | undefined {
  return KEY_PATTERN.exec(apiKey)?.[1];
}

/** Whether `apiKey` is the key whose hash is `storedHash`, in time that does not depend on where they differ. */
export function matchesHash(apiKey: string, storedHash: string): boolean {
  const actual = Buffer.from(hashApiKey(apiKey), 'hex');
  const expected = Buffer.from(storedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, RFC 7235). */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
  return match?.[1];
}
