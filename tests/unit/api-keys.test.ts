import { describe, expect, it } from 'vitest';
import { API_KEY_PREFIX, bearerToken, generateApiKey, hashApiKey, keyIdOf, matchesHash } from '../../shared/auth/api-keys.ts';

describe('API keys', () => {
  it('are recognisable, carry their key id, and hold 256 random bits', () => {
    const { apiKey, keyId, keyHash } = generateApiKey();
    expect(apiKey.startsWith(API_KEY_PREFIX)).toBe(true);
    expect(keyIdOf(apiKey)).toBe(keyId);
    const secret = apiKey.slice(`${API_KEY_PREFIX}${keyId}_`.length);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(keyHash).toBe(hashApiKey(apiKey));
    expect(keyHash).not.toContain(secret);
  });

  it('never repeat', () => {
    const keys = new Set(Array.from({ length: 1000 }, () => generateApiKey().apiKey));
    const ids = new Set([...keys].map((key) => keyIdOf(key)));
    expect(keys.size).toBe(1000);
    expect(ids.size).toBe(1000);
  });

  it('match only their own hash', () => {
    const one = generateApiKey();
    const other = generateApiKey();
    expect(matchesHash(one.apiKey, one.keyHash)).toBe(true);
    expect(matchesHash(other.apiKey, one.keyHash)).toBe(false);
    expect(matchesHash(one.apiKey, 'not hex at all')).toBe(false);
    expect(matchesHash(one.apiKey, '')).toBe(false);
  });

  it('are not made of anything else', () => {
    const { apiKey, keyId } = generateApiKey();
    for (const malformed of [
      '',
      'il_live_',
      apiKey.slice(0, -1),
      `${apiKey}x`,
      apiKey.replace('il_live_', 'il_test_'),
      apiKey.replace(keyId, keyId.toUpperCase()),
      ` ${apiKey}`,
      apiKey.replace(/.$/, '!'),
    ]) {
      expect(keyIdOf(malformed), malformed).toBeUndefined();
    }
  });

  it('come from Authorization: Bearer, scheme in any case', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('Basic YWxhZGRpbjpvcGVuc2VzYW1l')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
