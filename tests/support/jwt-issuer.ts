// A stand-in OpenID provider on 127.0.0.1: OpenID discovery and a JWKS, and tokens signed
// with its key (or, for tests of refusal, with a key it does not publish).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';

export interface TestIssuer {
  issuer: string;
  sign(claims: JWTPayload, options?: { expiresIn?: string | number; issuer?: string; audience?: string; foreignKey?: boolean }): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const kid = 'test-key-1';
  const own = await generateKeyPair('RS256');
  // Signs with the same kid, so only the signature tells the tokens apart.
  const foreign = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(own.publicKey)), kid, alg: 'RS256', use: 'sig' };
  const server = createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/jwks.json` }));
    }
    if (req.url === '/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ keys: [jwk] }));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    sign: async (claims, options = {}) => {
      let jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid })
        .setIssuedAt()
        .setIssuer(options.issuer ?? issuer)
        .setExpirationTime(options.expiresIn ?? '5m');
      if (options.audience) jwt = jwt.setAudience(options.audience);
      return jwt.sign(options.foreignKey ? foreign.privateKey : own.privateKey);
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
