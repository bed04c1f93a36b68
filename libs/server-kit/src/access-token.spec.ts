import { generateKeyPairSync } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwksKeyResolver, SigningKeysUnavailableError, keyForToken } from './access-token.js';

describe('JwksKeyResolver', () => {
  let server: Server;
  let url: string;
  let fetches = 0;
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };

  beforeAll(async () => {
    server = createServer((_request, response) => {
      fetches += 1;
      // A slow JWKS, so that many verifications arrive while the first fetch is under way.
      setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })), 50);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('lets concurrent callers share the first fetch instead of failing while it runs', async () => {
    fetches = 0;
    const resolver = new JwksKeyResolver(url);
    const keys = await Promise.all(Array.from({ length: 20 }, () => resolver.getKey('k1')));
    expect(keys.every((key) => key !== undefined)).toBe(true);
    expect(fetches).toBe(1);
  });

  it('refetches for an unknown kid at most once per refresh interval', async () => {
    fetches = 0;
    const resolver = new JwksKeyResolver(url, { minRefreshMs: 60_000 });
    expect(await resolver.getKey('k1')).toBeDefined();
    expect(await resolver.getKey('unknown')).toBeUndefined();
    expect(await resolver.getKey('unknown-2')).toBeUndefined();
    expect(fetches).toBe(1);
  });

  it('reports unreachable keys as unavailable, not as a bad token', async () => {
    const resolver = new JwksKeyResolver('http://127.0.0.1:1/jwks', { timeoutMs: 500 });
    const token = `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'k1' })).toString('base64url')}.e30.sig`;
    await expect(keyForToken(token, resolver)).rejects.toBeInstanceOf(SigningKeysUnavailableError);
  });
});
