import { describe, expect, it } from 'vitest';
import { TokenForge } from '../../../test-support/tokens.js';
import { accessTokenOf } from './jwt.strategy.js';
import { VerifiedTokenCache, bearerTokenOf, lookupKeyOf } from './verified-token-cache.js';

const signer = TokenForge.generate({ issuer: 'test-issuer', audience: 'test-audience' });
const user = { id: '64b7f0c2a1b2c3d4e5f60718', roles: ['USER' as const] };

function clock(start = Date.now()) {
  const state = { now: start };
  return { state, now: () => state.now };
}

describe('VerifiedTokenCache', () => {
  it('answers a remembered token with a copy of its caller, and nothing for any other string', () => {
    const cache = new VerifiedTokenCache();
    const token = signer.sign({ roles: ['USER'] });
    cache.remember(token, user);
    const found = cache.get(token);
    expect(found).toEqual(user);
    found?.roles.push('ADMIN');
    expect(cache.get(token)).toEqual(user);
    expect(cache.get(`${token}x`)).toBeUndefined();
    expect(cache.get(TokenForge.tampered(signer.sign({ roles: ['USER'] }), { roles: ['ADMIN'] }))).toBeUndefined();
  });

  it('never answers once the token has expired', () => {
    const { state, now } = clock();
    const cache = new VerifiedTokenCache({ now, maxAgeMs: 3_600_000 });
    const token = signer.sign({ roles: ['USER'] }, { expiresInSeconds: 30 });
    const exp = (JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { exp: number }).exp;
    cache.remember(token, user);
    state.now = exp * 1000 - 1;
    expect(cache.get(token)).toEqual(user);
    state.now = exp * 1000;
    expect(cache.get(token)).toBeUndefined();
  });

  it('forgets a verification after maxAgeMs even when the token lives longer', () => {
    const { state, now } = clock();
    const cache = new VerifiedTokenCache({ now, maxAgeMs: 1_000 });
    const token = signer.sign({ roles: ['USER'] }, { expiresInSeconds: 900 });
    cache.remember(token, user);
    state.now += 999;
    expect(cache.get(token)).toEqual(user);
    state.now += 1;
    expect(cache.get(token)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('does not remember tokens without exp or already expired', () => {
    const cache = new VerifiedTokenCache();
    const noExp = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from('{"sub":"a"}').toString('base64url')}.sig`;
    cache.remember(noExp, user);
    cache.remember(signer.sign({ roles: ['USER'] }, { expiresInSeconds: -1 }), user);
    cache.remember('not-a-jwt', user);
    expect(cache.size).toBe(0);
  });

  it('holds at most `capacity` tokens, forgetting the least recently used', () => {
    const cache = new VerifiedTokenCache({ capacity: 2 });
    const [a, b, c] = [1, 2, 3].map((n) => signer.sign({ roles: ['USER'], sub: `user-${n}` })) as [string, string, string];
    cache.remember(a, user);
    cache.remember(b, user);
    expect(cache.get(a)).toBeDefined();
    cache.remember(c, user);
    expect(cache.size).toBe(2);
    expect(cache.get(b)).toBeUndefined();
    expect(cache.get(a)).toBeDefined();
    expect(cache.get(c)).toBeDefined();
  });

  it('gives every entry asked for a second chance before forgetting it, and forgets one per token beyond capacity', () => {
    const cache = new VerifiedTokenCache({ capacity: 3 });
    const tokens = [1, 2, 3, 4, 5].map((n) => signer.sign({ roles: ['USER'], sub: `user-${n}` }));
    const [a, b, c, d, e] = tokens as [string, string, string, string, string];
    for (const token of [a, b, c]) cache.remember(token, user);
    for (const token of [a, b, c]) expect(cache.get(token)).toBeDefined();
    cache.remember(d, user);
    expect(cache.size).toBe(3);
    // All three were asked for: each is passed over once, then the oldest of them goes.
    expect(cache.get(a)).toBeUndefined();
    cache.remember(e, user);
    expect(cache.size).toBe(3);
    expect([b, c, d, e].filter((token) => cache.get(token) !== undefined)).toHaveLength(3);
  });
});

describe('VerifiedTokenCache.getByHeader', () => {
  it("answers as get(lookupKeyOf(header)) does, whether the connection's last header is kept or not", () => {
    const cache = new VerifiedTokenCache();
    const token = signer.sign({ roles: ['USER'] });
    const connection = {};
    expect(cache.getByHeader(`Bearer ${token}`, connection)).toBeUndefined();
    cache.remember(token, user);
    for (const header of [`Bearer ${token}`, `Bearer ${token}`, `bearer ${token}`, `Bearer ${token}`]) {
      expect(cache.getByHeader(header, connection)).toEqual(user);
      expect(cache.getByHeader(header, undefined)).toEqual(user);
    }
    const found = cache.getByHeader(`Bearer ${token}`, connection);
    found?.roles.push('ADMIN');
    expect(cache.getByHeader(`Bearer ${token}`, connection)).toEqual(user);
    expect(cache.getByHeader(`Bearer ${token}x`, connection)).toBeUndefined();
    expect(cache.getByHeader(`Basic ${token}`, connection)).toBeUndefined();
    expect(cache.getByHeader(undefined, connection)).toBeUndefined();
    expect(cache.getByHeader(`Bearer ${token}`, connection)).toEqual(user);
  });

  it('finds nothing on a connection once the token expired there, and nothing once the cache forgot it', () => {
    const { state, now } = clock();
    const cache = new VerifiedTokenCache({ now, maxAgeMs: 1_000, capacity: 1 });
    const [a, b] = [1, 2].map((n) => signer.sign({ roles: ['USER'], sub: `user-${n}` })) as [string, string];
    const connection = {};
    cache.remember(a, user);
    expect(cache.getByHeader(`Bearer ${a}`, connection)).toEqual(user);
    state.now += 1_000;
    expect(cache.getByHeader(`Bearer ${a}`, connection)).toBeUndefined();
    expect(cache.size).toBe(0);

    cache.remember(a, user);
    expect(cache.getByHeader(`Bearer ${a}`, connection)).toEqual(user);
    // Capacity 1: b takes a's place, so a is not found on the connection that kept it either.
    cache.remember(b, user);
    expect(cache.get(a)).toBeUndefined();
    expect(cache.getByHeader(`Bearer ${a}`, connection)).toBeUndefined();
    expect(cache.getByHeader(`Bearer ${b}`, connection)).toEqual(user);
  });

  it("takes a token's newer entry once it is remembered again", () => {
    const { state, now } = clock();
    const cache = new VerifiedTokenCache({ now, maxAgeMs: 1_000 });
    const token = signer.sign({ roles: ['USER'] }, { expiresInSeconds: 900 });
    const connection = {};
    cache.remember(token, user);
    expect(cache.getByHeader(`Bearer ${token}`, connection)).toEqual(user);
    state.now += 500;
    cache.remember(token, { ...user, roles: ['ADMIN'] });
    state.now += 600;
    // The first entry would have lapsed by now; the second lives until 1,500.
    expect(cache.getByHeader(`Bearer ${token}`, connection)).toEqual({ ...user, roles: ['ADMIN'] });
  });
});

describe('lookupKeyOf', () => {
  it('is the text after "Bearer " unchecked, and bearerTokenOf for any other spelling', () => {
    expect(lookupKeyOf('Bearer a.b.c')).toBe('a.b.c');
    expect(lookupKeyOf('Bearer a b')).toBe('a b');
    expect(lookupKeyOf('bearer a.b.c')).toBe('a.b.c');
    expect(lookupKeyOf('Basic a.b.c')).toBeUndefined();
    expect(lookupKeyOf(undefined)).toBeUndefined();
  });
});

describe('bearerTokenOf', () => {
  it('takes the token of a plain "Bearer <token>" header only', () => {
    expect(bearerTokenOf('Bearer a.b.c')).toBe('a.b.c');
    expect(bearerTokenOf('bearer a.b-_c')).toBe('a.b-_c');
    for (const header of [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      'Bearer a.b.c d',
      'Basic a.b.c',
      ' Bearer a.b.c',
      'Bearer a b',
      ['Bearer a'],
    ]) {
      expect(bearerTokenOf(header), String(header)).toBeUndefined();
    }
  });
});

describe('accessTokenOf', () => {
  it("is the plain Bearer header's token; any other Bearer spelling whole (to be refused); no token otherwise", () => {
    const of = (authorization?: string) => accessTokenOf({ headers: authorization === undefined ? {} : { authorization } });
    expect(of('Bearer a.b.c')).toBe('a.b.c');
    expect(of('bearer a.b.c')).toBe('a.b.c');
    expect(of('Bearer a.b.c junk')).toBe('Bearer a.b.c junk');
    expect(of('Bearer\ta.b.c')).toBe('Bearer\ta.b.c');
    expect(of(undefined)).toBeNull();
    expect(of('Basic YWRtaW46YWRtaW4=')).toBeNull();
    expect(of('Bearertoken')).toBeNull();
  });
});
