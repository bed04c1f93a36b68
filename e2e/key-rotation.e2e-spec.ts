import { ACCESS_VERSION_CLAIM } from '@reward/server-kit/roles';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, type TokenPair } from './support/client.js';
import { ADMIN, type Stack, startStack } from './support/stack.js';
import { TokenForge } from '../test-support/tokens.js';

/**
 * A rotation of the signing key seen from the verifiers: the key being rotated in or out is published by the auth
 * server (JWT_ADDITIONAL_PUBLIC_KEYS) beside the one it signs with, and the gateway and the event server, which
 * know the keys only from that JWKS, accept the tokens it signed; a key published nowhere stays refused.
 */
describe('a key of JWT_ADDITIONAL_PUBLIC_KEYS, through the gateway', () => {
  const rotating = TokenForge.generate();
  let stack: Stack;
  let api: Client;
  let adminClaims: { sub: string; roles: string[]; [ACCESS_VERSION_CLAIM]: unknown };

  beforeAll(async () => {
    stack = await startStack('key_rotation', { auth: { JWT_ADDITIONAL_PUBLIC_KEYS: rotating.publicKeyPem } });
    api = new Client(stack.gatewayUrl);
    const login = await api.post<TokenPair>('/auth/login', ADMIN);
    expect(login.status).toBe(200);
    const claims = JSON.parse(Buffer.from(login.body.accessToken.split('.')[1]!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    adminClaims = {
      sub: claims.sub as string,
      roles: claims.roles as string[],
      [ACCESS_VERSION_CLAIM]: claims[ACCESS_VERSION_CLAIM],
    };
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('is published beside the signing key', async () => {
    const jwks = await api.get<{ keys: Array<{ kid: string }> }>('/.well-known/jwks.json');
    expect(jwks.body.keys.map((key) => key.kid)).toEqual([TokenForge.fromPrivateKey(stack.privateKeyPem).kid, rotating.kid]);
  });

  it('verifies tokens at the gateway, the auth server and the event server', async () => {
    const token = rotating.sign(adminClaims);
    // ADMIN routes: the gateway checks the token, then the auth server (GET /users) or the event server.
    expect((await api.get('/users', token)).status).toBe(200);
    expect((await api.get('/webhook-endpoints', token)).status).toBe(200);
  });

  it('refuses the same claims signed by a key published nowhere', async () => {
    const token = TokenForge.generate().sign(adminClaims);
    expect((await api.get('/users', token)).status).toBe(401);
    expect((await api.get('/webhook-endpoints', token)).status).toBe(401);
  });
});
