import { generateKeyPairSync } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidTokenError,
  JwksKeyResolver,
  type KeyResolver,
  SigningKeysUnavailableError,
  keyForToken,
  userFromClaims,
} from './access-token.js';
import { describeFailure } from './jwt.strategy.js';

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

  it('keeps saying unavailable, not unknown key, after a failed fetch, and fetches again a moment later', async () => {
    // A process started while the auth server was down: its key set is empty.
    let up = false;
    const flaky = createServer((_request, response) => {
      if (!up) return void response.writeHead(503).end();
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    try {
      const flakyUrl = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/jwks`;
      const resolver = new JwksKeyResolver(flakyUrl, { minRefreshMs: 60_000, retryAfterFailureMs: 60_000 });
      const token = `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'k1' })).toString('base64url')}.e30.sig`;
      await expect(keyForToken(token, resolver)).rejects.toBeInstanceOf(SigningKeysUnavailableError);
      // Within the refresh interval: still unavailable (503), never "unknown signing key" (401).
      await expect(keyForToken(token, resolver)).rejects.toBeInstanceOf(SigningKeysUnavailableError);
      up = true;
      const soon = new JwksKeyResolver(flakyUrl, { minRefreshMs: 60_000, retryAfterFailureMs: 0 });
      up = false;
      await expect(soon.getKey('k1')).rejects.toThrow();
      up = true;
      // Once the auth server answers, the next request after the failure's short wait fetches and finds the key.
      expect(await soon.getKey('k1')).toBeDefined();
    } finally {
      await new Promise<void>((resolve) => flaky.close(() => resolve()));
    }
  });
});

describe('tokens whose header or claims are JSON but no object', () => {
  const segment = (json: string): string => Buffer.from(json).toString('base64url');
  const noKeys: KeyResolver = {
    getKey: () => Promise.reject(new Error('no key should be looked up for a malformed token')),
  };

  it.each([
    ['null', 'bnVsbA.eyJzdWIiOiJ4In0.AAAA'],
    ['an array', `${segment('[]')}.e30.sig`],
    ['a number', `${segment('1')}.e30.sig`],
    ['a string', `${segment('"RS256"')}.e30.sig`],
    ['invalid JSON', `${segment('{')}.e30.sig`],
  ])('refuses a header that is %s as a malformed token, without an internal error text', async (_name, token) => {
    const refusal = keyForToken(token, noKeys);
    await expect(refusal).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(refusal).rejects.toThrow(/^malformed token$/);
    expect(describeFailure(await refusal.catch((error: unknown) => error))).toBe('Invalid access token: malformed token');
  });

  it.each([
    ['null', null],
    ['an array', [{ sub: 'x', roles: ['USER'], exp: 1 }]],
    ['a number', 1],
    ['a string', 'null'],
  ])('refuses claims that are %s as a malformed token', (_name, payload) => {
    expect(() => userFromClaims(payload)).toThrow(new InvalidTokenError('malformed token'));
  });

  it('still accepts well-formed claims', () => {
    expect(userFromClaims({ sub: 'u1', roles: ['USER'], exp: 4_000_000_000, av: 2 })).toEqual({
      id: 'u1',
      roles: ['USER'],
      accessVersion: 2,
    });
  });
});
