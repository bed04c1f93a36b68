import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { rsaPrivateKeyPem } from '../../../test-support/tokens.js';
import { loadAuthConfig } from '../config/auth-config.js';
import { signingKeyFromPem } from '../signing-keys/signing-key.js';
import { ServiceTokenIssuer } from './service-token.issuer.js';

async function issuerWithKey(): Promise<{
  issuer: ServiceTokenIssuer;
  kid: string;
  verify: (token: string) => Promise<unknown>;
}> {
  const pem = rsaPrivateKeyPem();
  const key = await signingKeyFromPem(pem);
  const config = loadAuthConfig({ JWT_ISSUER: 'iss-x' });
  const issuer = new ServiceTokenIssuer(config, { signingKey: () => key });
  return {
    issuer,
    kid: key.kid,
    verify: async (token) =>
      (await jwtVerify(token, key.publicKey, { issuer: 'iss-x', audience: 'reward-platform-internal', algorithms: ['RS256'] }))
        .payload,
  };
}

describe('ServiceTokenIssuer', () => {
  it('signs RS256 with the current kid: sub auth-server, no roles, service audience, 5 minutes', async () => {
    const { issuer, kid, verify } = await issuerWithKey();
    const now = new Date();
    const token = await issuer.token(now);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', kid });
    const claims = (await verify(token)) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: 'auth-server', roles: [], iss: 'iss-x', aud: 'reward-platform-internal' });
    expect((claims.exp as number) - (claims.iat as number)).toBe(300);
  });

  it('reuses the token until a minute before it expires, then signs a new one', async () => {
    const { issuer } = await issuerWithKey();
    const start = new Date('2030-01-01T00:00:00Z');
    const first = await issuer.token(start);
    expect(await issuer.token(new Date(start.getTime() + 239_000))).toBe(first);
    const renewed = await issuer.token(new Date(start.getTime() + 240_000));
    expect(renewed).not.toBe(first);
    expect(decodeJwt(renewed).exp).toBe(Math.floor(start.getTime() / 1000) + 240 + 300);
  });

  it('signs afresh after invalidate (a 401 from the event server)', async () => {
    const { issuer } = await issuerWithKey();
    const now = new Date('2030-01-01T00:00:00Z');
    const first = await issuer.token(now);
    issuer.invalidate();
    const second = await issuer.token(new Date(now.getTime() + 1000));
    expect(second).not.toBe(first);
  });
});
