import { describe, expect, it } from 'vitest';
import { authParameters, isLoopback, ProtectedModeError } from '../auth-settings.ts';

describe('npm start auth settings', () => {
  it('knows loopback addresses from the rest', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'example.com', 'my-laptop', '']) expect(isLoopback(host), host).toBe(false);
  });

  it('is open (AuthMode None) by default on loopback, with the key cache off so a revocation acts at once', () => {
    expect(authParameters({}, '127.0.0.1')).toEqual({ AuthMode: 'None', ApiKeyCacheTtlSeconds: '0' });
  });

  it('refuses an open API on any other address (protected mode), explicitly open or by default', () => {
    expect(() => authParameters({}, '0.0.0.0')).toThrow(ProtectedModeError);
    expect(() => authParameters({ AUTH_MODE: 'none' }, '192.168.1.10')).toThrow(/protected mode.*AUTH_MODE=api-key/);
    expect(authParameters({ AUTH_MODE: 'api-key' }, '0.0.0.0')).toMatchObject({ AuthMode: 'ApiKey' });
  });

  it('takes the JWT issuer and audience, the cache TTL and the throttling limits', () => {
    expect(() => authParameters({ AUTH_MODE: 'jwt' }, '127.0.0.1')).toThrow(/JWT_ISSUER/);
    expect(
      authParameters(
        { AUTH_MODE: 'JWT', JWT_ISSUER: 'http://127.0.0.1:9/', JWT_AUDIENCE: 'api', AUTH_CACHE_TTL_SECONDS: '60', THROTTLING_BURST_LIMIT: '2', THROTTLING_RATE_LIMIT: '1' },
        '127.0.0.1',
      ),
    ).toEqual({ AuthMode: 'Jwt', JwtIssuer: 'http://127.0.0.1:9/', JwtAudience: 'api', ApiKeyCacheTtlSeconds: '60', ThrottlingBurstLimit: '2', ThrottlingRateLimit: '1' });
    expect(() => authParameters({ AUTH_MODE: 'open' }, '127.0.0.1')).toThrow(/AUTH_MODE must be/);
  });
});
