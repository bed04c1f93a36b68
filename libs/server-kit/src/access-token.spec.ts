import { constants, generateKeyPairSync, sign } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TokenForge } from '../../../test-support/tokens.js';
import {
  ExpiredTokenError,
  InvalidTokenError,
  JwksKeyResolver,
  type KeyResolver,
  SigningKeysUnavailableError,
  keyForToken,
  userFromClaims,
  verifiedClaimsOf,
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

describe('JwksKeyResolver started beside the auth server', () => {
  it('fetches again within moments, not after the usual wait, while the auth server refuses connections and no key set was ever fetched', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
    // A port nothing listens on yet (npm start and Compose start the servers at once).
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const resolver = new JwksKeyResolver(`http://127.0.0.1:${port}/jwks`, { minRefreshMs: 60_000, retryAfterFailureMs: 60_000 });
    await expect(resolver.getKey('k1')).rejects.toThrow();
    // The auth server now listens: a request a moment later finds the key, rather than 503 for retryAfterFailureMs.
    const auth = createServer((_request, response) =>
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
    );
    await new Promise<void>((resolve) => auth.listen(port, '127.0.0.1', resolve));
    try {
      await vi.waitFor(async () => expect(await resolver.getKey('k1')).toBeDefined(), { timeout: 10_000, interval: 20 });
    } finally {
      auth.closeAllConnections();
      await new Promise<void>((resolve) => auth.close(() => resolve()));
    }
  });
});

describe('JwksKeyResolver during a rotation of the signing key', () => {
  const jwkOf = (kid: string) => ({
    ...generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }),
    kid,
    alg: 'RS256',
    use: 'sig',
  });
  const old = jwkOf('old');
  const next = jwkOf('next');
  /** The key set each auth replica publishes; a fetch reaches them in turn, as a load balancer spreads it. */
  let replicas: Array<Array<Record<string, unknown>>> = [];
  let fetches = 0;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer((_request, response) => {
      const keys = replicas[fetches % replicas.length];
      fetches += 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('has, after a fetch from any replica, every kid a valid token carries at each step of the documented procedure', async () => {
    // docs/design.md, "Rotating the signing key": [replicas' key sets, the kids of tokens still valid].
    const steps: Array<[Array<Array<Record<string, unknown>>>, string[]]> = [
      [[[old]], ['old']],
      // 1. The next key published beside the old one, replica by replica; nobody signs with it yet.
      [[[old], [old, next]], ['old']],
      // 2. Signing with the next key, replica by replica, the old one still published everywhere.
      [
        [
          [old, next],
          [next, old],
        ],
        ['old', 'next'],
      ],
      [[[next, old]], ['old', 'next']],
      // 3. Once the old key's tokens have expired, it is withdrawn, replica by replica.
      [[[next, old], [next]], ['next']],
      [[[next]], ['next']],
    ];
    const resolver = new JwksKeyResolver(url, { minRefreshMs: 60_000 });
    for (const [sets, valid] of steps) {
      replicas = sets;
      for (let turn = 0; turn < 2 * sets.length; turn++) {
        await resolver.refresh();
        for (const kid of valid)
          expect(
            await resolver.getKey(kid),
            `kid ${kid} after a fetch from ${JSON.stringify(sets.map((set) => set.map((key) => key.kid)))}`,
          ).toBeDefined();
      }
    }
  });

  it('fetches again for the next key when it fetched before that key was published', async () => {
    replicas = [[old]];
    // A refresh interval of 0: the procedure waits longer than the real one (10 s) between publishing and signing.
    const resolver = new JwksKeyResolver(url, { minRefreshMs: 0 });
    expect(await resolver.getKey('old')).toBeDefined();
    expect(await resolver.getKey('next')).toBeUndefined();
    replicas = [[old, next]];
    expect(await resolver.getKey('next')).toBeDefined();
  });

  it('stops accepting a withdrawn key once its set is older than maxAgeMs, and not before', async () => {
    replicas = [[next, old]];
    const fresh = new JwksKeyResolver(url);
    const stale = new JwksKeyResolver(url, { maxAgeMs: 0 });
    expect(await fresh.getKey('old')).toBeDefined();
    expect(await stale.getKey('old')).toBeDefined();
    replicas = [[next]];
    fetches = 0;
    // Still known: the request is answered at once, and the stale set is fetched again behind it.
    expect(await stale.getKey('old')).toBeDefined();
    await vi.waitFor(async () => expect(await stale.getKey('old')).toBeUndefined());
    expect(await stale.getKey('next')).toBeDefined();
    // Within its 5 minutes, the set is used as fetched: no request for it.
    const before = fetches;
    expect(await fresh.getKey('old')).toBeDefined();
    expect(fetches).toBe(before);
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

  // String() of an object whose toString is no function throws a TypeError, whose text reached the client as
  // the reason ("Cannot convert object to primitive value"); an array alg was named as its elements ("RS256").
  it.each([
    ['an object whose toString is no function', '{"alg":{"toString":1}}', 'algorithm object is not accepted'],
    ['an array holding RS256', '{"alg":["RS256"],"kid":"k"}', 'algorithm object is not accepted'],
    ['absent', '{"kid":"k"}', 'algorithm undefined is not accepted'],
  ])('refuses a header whose alg is %s as such, without an internal error text', async (_name, header, reason) => {
    const refusal = keyForToken(`${segment(header)}.e30.AAAA`, noKeys);
    await expect(refusal).rejects.toBeInstanceOf(InvalidTokenError);
    expect(describeFailure(await refusal.catch((error: unknown) => error))).toBe(`Invalid access token: ${reason}`);
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

describe('verifiedClaimsOf', () => {
  const forge = TokenForge.generate();
  const policy = {
    issuer: forge.issuer,
    audience: forge.audience,
    keys: { getKey: (kid: string) => Promise.resolve(kid === forge.kid ? forge.publicKey : undefined) },
  };
  const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
  const now = () => Math.floor(Date.now() / 1000);
  /** RS256 by our key over any header and payload text: only what the test names differs from a valid token. */
  const signed = (payload: unknown, header: unknown = { alg: 'RS256', typ: 'JWT', kid: forge.kid }, key = forge.privateKey) => {
    const data = `${b64(header)}.${b64(payload)}`;
    return `${data}.${sign('sha256', Buffer.from(data), key).toString('base64url')}`;
  };
  const claims = (extra: Record<string, unknown> = {}) => ({
    sub: 'u1',
    roles: ['USER'],
    iss: forge.issuer,
    aud: forge.audience,
    iat: now(),
    exp: now() + 900,
    ...extra,
  });
  const refusal = (token: string) =>
    verifiedClaimsOf(token, policy).then(
      () => undefined,
      (error: unknown) => error as Error,
    );

  it('hands back the claims of a token signed as the auth server signs, and of one signed by hand', async () => {
    expect(await verifiedClaimsOf(forge.sign({ sub: 'u1', roles: ['USER'] }), policy)).toMatchObject({
      sub: 'u1',
      roles: ['USER'],
      iss: forge.issuer,
      aud: forge.audience,
    });
    expect(await verifiedClaimsOf(signed(claims({ aud: ['another-app', forge.audience] })), policy)).toMatchObject({ sub: 'u1' });
  });

  it.each([
    ['expired a second ago', claims({ exp: now() - 1 }), ExpiredTokenError, /^jwt expired$/],
    ['expiring this very second', claims({ exp: now() }), ExpiredTokenError, /^jwt expired$/],
    ['without exp', claims({ exp: undefined }), InvalidTokenError, /^token has no expiry$/],
    ['with exp as text', claims({ exp: String(now() + 900) }), InvalidTokenError, /^token has no expiry$/],
    ['not valid before a minute from now', claims({ nbf: now() + 60 }), InvalidTokenError, /^jwt not active$/],
    ['with nbf as text', claims({ nbf: '0' }), InvalidTokenError, /^invalid nbf value$/],
    ['of another issuer', claims({ iss: 'someone-else' }), InvalidTokenError, /^jwt issuer invalid$/],
    ['without an issuer', claims({ iss: undefined }), InvalidTokenError, /^jwt issuer invalid$/],
    ['for another audience', claims({ aud: 'another-app' }), InvalidTokenError, /^jwt audience invalid$/],
    ['for other audiences only', claims({ aud: ['a', 'b'] }), InvalidTokenError, /^jwt audience invalid$/],
    ['without an audience', claims({ aud: undefined }), InvalidTokenError, /^jwt audience invalid$/],
    ['a JSON array', [claims()], InvalidTokenError, /^malformed token$/],
    ['JSON null', null, InvalidTokenError, /^malformed token$/],
    ['not JSON', 'sub=u1', InvalidTokenError, /^malformed token$/],
  ])('refuses a correctly signed token whose claims are %s', async (_name, payload, type, message) => {
    const error = await refusal(signed(payload));
    expect(error).toBeInstanceOf(type);
    expect(error?.message).toMatch(message);
  });

  it('accepts a token whose nbf has come', async () => {
    expect(await verifiedClaimsOf(signed(claims({ nbf: now() })), policy)).toMatchObject({ sub: 'u1' });
  });

  it.each([
    [
      'tampered after signing',
      () => TokenForge.tampered(forge.sign({ roles: ['USER'] }), { roles: ['ADMIN'] }),
      /^invalid signature$/,
    ],
    ['signed by another key under our kid', () => forge.wrongKeySameKid({ roles: ['USER'] }), /^invalid signature$/],
    [
      'signed by RSA-PSS under RS256',
      () => {
        const data = `${b64({ alg: 'RS256', kid: forge.kid })}.${b64(claims())}`;
        const pss = sign('sha256', Buffer.from(data), { key: forge.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING });
        return `${data}.${pss.toString('base64url')}`;
      },
      /^invalid signature$/,
    ],
    ['alg none', () => forge.unsigned({ roles: ['USER'] }), /^algorithm none is not accepted$/],
    ['HS256 with the public key', () => forge.hmacWithPublicKey({ roles: ['USER'] }), /^algorithm HS256 is not accepted$/],
    ['under an unknown kid', () => forge.unknownKid({ roles: ['USER'] }), /^unknown signing key$/],
    [
      'of two segments',
      () =>
        forge
          .sign({ roles: ['USER'] })
          .split('.')
          .slice(0, 2)
          .join('.'),
      /^malformed token$/,
    ],
    ['of four segments', () => `${forge.sign({ roles: ['USER'] })}.e30`, /^malformed token$/],
    ['with a padded signature', () => `${forge.sign({ roles: ['USER'] })}==`, /^malformed token$/],
    ['with a space in its payload', () => forge.sign({ roles: ['USER'] }).replace('.', '. '), /^malformed token$/],
    ['with an empty payload', () => forge.sign({ roles: ['USER'] }).replace(/\.[^.]+\./, '..'), /^malformed token$/],
  ])('refuses a token %s', async (_name, token, message) => {
    const error = await refusal(token());
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).not.toBeInstanceOf(ExpiredTokenError);
    expect(error?.message).toMatch(message);
  });

  it('refuses a token whose kid names a key that is not an RSA public key', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
    for (const key of [ec.publicKey, pss.publicKey]) {
      const error = await verifiedClaimsOf(forge.sign({ roles: ['USER'] }), {
        ...policy,
        keys: { getKey: () => Promise.resolve(key) },
      }).then(
        () => undefined,
        (refused: unknown) => refused as Error,
      );
      expect(error?.message, key.asymmetricKeyType).toBe('signing key is not an RSA public key');
    }
  });

  it('tells the client an expired token has expired, and why any other was refused', async () => {
    expect(describeFailure(await refusal(signed(claims({ exp: now() - 1 }))))).toBe('Access token has expired');
    expect(describeFailure(await refusal(signed(claims({ iss: 'x' }))))).toBe('Invalid access token: jwt issuer invalid');
  });
});

describe('describeFailure', () => {
  it("quotes the verifier's reasons and no other error's text", () => {
    expect(describeFailure(new InvalidTokenError('jwt issuer invalid'))).toBe('Invalid access token: jwt issuer invalid');
    expect(describeFailure(new ExpiredTokenError('jwt expired'))).toBe('Access token has expired');
    expect(describeFailure(new TypeError('Cannot convert object to primitive value'))).toBe('Missing or invalid bearer token');
    expect(describeFailure(undefined)).toBe('Missing or invalid bearer token');
  });
});
