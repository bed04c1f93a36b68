import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { describe, expect, it } from 'vitest';
import { signingKeyFromPem } from './signing-key.js';

describe('signingKeyFromPem', () => {
  it('derives the public JWK and the RFC 7638 thumbprint as kid', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = await signingKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
    const { n, e } = publicKey.export({ format: 'jwk' });
    expect(key.jwk).toEqual({ kty: 'RSA', n, e, kid: key.kid, alg: 'RS256', use: 'sig' });
    expect(key.kid).toBe(await calculateJwkThumbprint({ kty: 'RSA', n: n!, e: e! }, 'sha256'));
    expect(key.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key.jwk).not.toHaveProperty('d');
  });

  it('gives the same kid for the same key', async () => {
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect((await signingKeyFromPem(pem)).kid).toBe((await signingKeyFromPem(pem)).kid);
  });

  it('refuses a non-RSA key', async () => {
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await expect(signingKeyFromPem(pem)).rejects.toThrow('not an RSA key');
  });
});
