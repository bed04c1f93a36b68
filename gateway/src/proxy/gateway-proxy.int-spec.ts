import { request } from 'node:http';
import { ROLES, type Role } from '@reward/server-kit/roles';
import { ANSWER_OWED_HEADER, RESENT_AFTER_DROP_HEADER } from '@reward/server-kit/resent-after-drop';
import { START_BY_HEADER } from '@reward/server-kit/start-by';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ROUTE_POLICIES } from '../policy/route-policy.js';
import { TokenForge } from '../../../test-support/tokens.js';
import { type SeenRequest, unusedUrl } from '../testing/fake-upstream.js';
import { startGateway, useGatewayWithFakes } from '../testing/gateway-harness.js';
import { concretePath } from '../testing/policy-samples.js';
import { type RawResponse, rawRequest } from '../testing/raw-http.js';
import { until } from '../../../test-support/store-proxy.js';

// Runs without a database: the gateway has none, and its upstreams here are fakes.
const UPSTREAM_TIMEOUT_MS = 400;
const gateway = useGatewayWithFakes({ UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS) });
const { signer, auth, event } = gateway;

afterEach(() => {
  auth.seen.length = 0;
  event.seen.length = 0;
  auth.answer = () => undefined;
});

function bearer(roles: Role[]): { authorization: string } {
  return { authorization: `Bearer ${signer.sign({ roles })}` };
}

function send(
  method: string,
  path: string,
  options: { headers?: Record<string, string | string[]>; body?: string | Buffer } = {},
) {
  return rawRequest(gateway.url, method, path, options);
}

function expectErrorBody(response: RawResponse, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.json()).toMatchObject({ statusCode: status, code, error: expect.any(String), message: expect.anything() });
}

function lastSeen(): SeenRequest {
  expect(auth.seen).toHaveLength(1);
  return auth.seen[0] as SeenRequest;
}

describe('forwarding', () => {
  it('forwards method, path, raw query, body bytes and Authorization unchanged', async () => {
    const body = '{ "roles" : ["OPERATOR"],\n"z": 1, "a": 0.10 }';
    const query = '?b=2&a=%20x+y&a=1&empty=&flag';
    const headers = { ...bearer(['ADMIN']), 'content-type': 'application/json; charset=utf-8', 'idempotency-key': 'key-1' };
    const response = await send('PATCH', `/users/64b7f0c2a1b2c3d4e5f60718/roles${query}`, { headers, body });

    expect(response.status).toBe(200);
    const seen = lastSeen();
    expect(seen.method).toBe('PATCH');
    expect(seen.url).toBe(`/users/64b7f0c2a1b2c3d4e5f60718/roles${query}`);
    expect(seen.body).toBe(body);
    expect(seen.headers).toMatchObject({
      authorization: headers.authorization,
      'content-type': 'application/json; charset=utf-8',
      'idempotency-key': 'key-1',
      'content-length': String(Buffer.byteLength(body)),
    });
  });

  it('passes bodies of any content type (and none) through byte for byte', async () => {
    const binary = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x7b, 0x22]);
    const cases: Array<[Record<string, string>, string | Buffer]> = [
      [{ 'content-type': 'text/plain' }, 'plain text'],
      [{ 'content-type': 'application/x-www-form-urlencoded' }, 'email=a%40b.c&password=x+y'],
      [{ 'content-type': 'application/vnd.custom+json' }, '{"x":1}'],
      [{ 'content-type': 'application/octet-stream' }, binary],
      [{}, 'no content type'],
    ];
    for (const [headers, body] of cases) {
      auth.seen.length = 0;
      const response = await send('POST', '/auth/register', { headers, body });
      expect(response.status).toBe(200);
      const seen = lastSeen();
      expect(seen.headers['content-type']).toBe(headers['content-type']);
      expect(seen.headers['content-length']).toBe(String(Buffer.byteLength(body)));
      expect(Buffer.from(seen.bodyBase64, 'base64').equals(Buffer.from(body))).toBe(true);
    }
  });

  it('passes malformed JSON to the upstream unchanged (the upstream answers it)', async () => {
    auth.answer = (seen) => ({ status: 400, body: { statusCode: 400, code: 'INVALID_JSON', echoed: seen.body } });
    const response = await send('POST', '/auth/login', { headers: { 'content-type': 'application/json' }, body: '{"email": ' });
    expect(response.status).toBe(400);
    expect(response.json()).toEqual({ statusCode: 400, code: 'INVALID_JSON', echoed: '{"email": ' });
  });

  it('forwards a chunked body with its length once read', async () => {
    const response = await send('POST', '/auth/login', {
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body: '{"email":"a@b.c"}',
    });
    expect(response.status).toBe(200);
    const seen = lastSeen();
    expect(seen.body).toBe('{"email":"a@b.c"}');
    expect(seen.headers['content-length']).toBe('17');
    expect(seen.headers['transfer-encoding']).toBeUndefined();
  });

  it('forwards HEAD for a GET line with the same access', async () => {
    expect((await send('HEAD', '/users/me')).status).toBe(401);
    const response = await send('HEAD', '/users/me', { headers: bearer(['USER']) });
    expect(response.status).toBe(200);
    expect(response.text).toBe('');
    expect(lastSeen().method).toBe('HEAD');
  });

  it('passes upstream errors (4xx and 5xx) through unchanged, without retrying', async () => {
    for (const [status, body] of [
      [409, { statusCode: 409, error: 'Conflict', message: 'taken', code: 'EMAIL_TAKEN' }],
      [429, { statusCode: 429, error: 'Too Many Requests', message: 'slow down', code: 'TOO_MANY_REQUESTS' }],
      [503, { statusCode: 503, error: 'Service Unavailable', message: 'database down', code: 'SERVICE_UNAVAILABLE' }],
    ] as const) {
      auth.seen.length = 0;
      auth.answer = () => ({ status, body, headers: { 'retry-after': '7', 'x-upstream': 'auth' } });
      const response = await send('POST', '/auth/login', { headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(response.status).toBe(status);
      expect(response.json()).toEqual(body);
      expect(response.headers['retry-after']).toBe('7');
      expect(response.headers['x-upstream']).toBe('auth');
      expect(auth.seen).toHaveLength(1);
    }
    auth.seen.length = 0;
    auth.answer = () => ({ status: 503, body: { code: 'SERVICE_UNAVAILABLE' } });
    expect((await send('GET', '/users/me', { headers: bearer(['USER']) })).status).toBe(503);
    expect(auth.seen).toHaveLength(1);
  });
});

describe('headers', () => {
  it.each([
    ['a path segment over 100 characters', `/events/${'a'.repeat(200)}/claims`, 414, 'URI_TOO_LONG'],
    ['a bad percent-encoding', '/events/%E0%A4%A/claims', 400, 'VALIDATION_FAILED'],
  ])("a URL refused before routing (%s) gets the error body and every answer's headers", async (_case, path, status, code) => {
    const response = await send('POST', path, { headers: bearer(['USER']) });
    expectErrorBody(response, status, code);
    expect(response.headers['x-request-id']).toBeTruthy();
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('strips client-sent identity headers and replaces X-Forwarded-For with the client address', async () => {
    await send('GET', '/users/me', {
      headers: {
        ...bearer(['USER']),
        'x-user-id': 'someone-else',
        'x-user-roles': 'ADMIN',
        'x-roles': 'ADMIN',
        'x-auth-user': 'admin',
        'x-forwarded-user': 'admin',
        'x-forwarded-for': '203.0.113.7',
        'x-real-ip': '203.0.113.7',
        forwarded: 'for=203.0.113.7',
        // Only the gateway marks a claim it resent after a drop (a client's mark would skip the claims gate).
        [RESENT_AFTER_DROP_HEADER]: '1',
        // Only the gateway says until when an upstream may start on a request (a client's would move it).
        [START_BY_HEADER]: '9999999999999',
        'x-custom': 'kept',
      },
    });
    const { headers } = lastSeen();
    for (const name of [
      'x-user-id',
      'x-user-roles',
      'x-roles',
      'x-auth-user',
      'x-forwarded-user',
      'x-real-ip',
      'forwarded',
      RESENT_AFTER_DROP_HEADER,
    ]) {
      expect(headers[name], name).toBeUndefined();
    }
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-custom']).toBe('kept');
    // A read records nothing: it gets no start-by time (and the client's is gone).
    expect(headers[START_BY_HEADER]).toBeUndefined();
  });

  it('stamps a request that may record something with its start-by time: half its upstream timeout after sending it', async () => {
    const sentAfter = Date.now();
    const response = await send('PATCH', '/users/64b7f0c2a1b2c3d4e5f60718/roles', {
      headers: { ...bearer(['ADMIN']), 'content-type': 'application/json', [START_BY_HEADER]: '9999999999999' },
      body: '{"roles":["OPERATOR"]}',
    });
    const sentBefore = Date.now();
    expect(response.status).toBe(200);
    const startBy = Number(lastSeen().headers[START_BY_HEADER]);
    expect(startBy).toBeGreaterThanOrEqual(sentAfter + UPSTREAM_TIMEOUT_MS / 2);
    expect(startBy).toBeLessThanOrEqual(sentBefore + UPSTREAM_TIMEOUT_MS / 2);
  });

  it("keeps the client's connection headers to its own connection: Keep-Alive, Upgrade, Expect and what Connection names", async () => {
    // Forwarded, undici refused to send the request: the client got a 502 for a request no upstream saw.
    const body = '{"roles":["OPERATOR"]}';
    const response = await send('PATCH', '/users/64b7f0c2a1b2c3d4e5f60718/roles', {
      headers: {
        ...bearer(['ADMIN']),
        'content-type': 'application/json',
        connection: 'keep-alive, x-hop',
        'keep-alive': 'timeout=5',
        'x-hop': '1',
        upgrade: 'websocket',
        te: 'trailers',
        expect: '100-continue',
      },
      body,
    });
    expect(response.status).toBe(200);
    const { headers, body: seenBody } = lastSeen();
    expect(seenBody).toBe(body);
    for (const name of ['keep-alive', 'x-hop', 'upgrade', 'te', 'expect']) expect(headers[name], name).toBeUndefined();
  });

  it('generates an x-request-id, forwards it and echoes it', async () => {
    const response = await send('GET', '/users/me', { headers: bearer(['USER']) });
    const id = response.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(lastSeen().headers['x-request-id']).toBe(id);
  });

  it('accepts a well-formed x-request-id and replaces a malformed one', async () => {
    const accepted = await send('GET', '/users/me', { headers: { ...bearer(['USER']), 'x-request-id': 'client-req-0001' } });
    expect(accepted.headers['x-request-id']).toBe('client-req-0001');
    expect(lastSeen().headers['x-request-id']).toBe('client-req-0001');

    auth.seen.length = 0;
    const replaced = await send('GET', '/users/me', { headers: { ...bearer(['USER']), 'x-request-id': 'bad id with spaces' } });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(lastSeen().headers['x-request-id']).toBe(replaced.headers['x-request-id']);
  });

  it('echoes the request id on the gateway’s own refusals too', async () => {
    const response = await send('GET', '/nowhere', { headers: { 'x-request-id': 'refused-req-0001' } });
    expect(response.headers['x-request-id']).toBe('refused-req-0001');
  });

  it("keeps the upstream's hop-by-hop headers to its own connection: a client's Connection: close is honoured", async () => {
    // The upstream answers "Connection: keep-alive, X-Hop" with "Keep-Alive" and "X-Hop": they describe the
    // gateway's connection to it, not the client's; copied, they kept open a connection the client closes.
    auth.answer = () => ({
      headers: { connection: 'keep-alive, x-hop', 'keep-alive': 'timeout=3', 'x-hop': '1', 'x-end': 'kept' },
    });
    const closing = await send('GET', '/users/me', { headers: { ...bearer(['USER']), connection: 'close' } });
    expect(closing.status).toBe(200);
    expect(closing.headers.connection).toBe('close');
    expect(closing.headers['keep-alive']).toBeUndefined();
    expect(closing.headers['x-hop']).toBeUndefined();
    expect(closing.headers['x-end']).toBe('kept');

    const kept = await send('GET', '/users/me', { headers: bearer(['USER']) });
    expect(kept.headers['keep-alive']).not.toBe('timeout=3');
    expect(kept.headers['x-end']).toBe('kept');
  });
});

describe('client address', () => {
  it('believes a client-sent X-Forwarded-For only from a configured trusted proxy', async () => {
    const behindProxy = await startGateway(
      { auth: auth.url, event: event.url, jwks: auth.url },
      { GATEWAY_TRUSTED_PROXIES: '127.0.0.1' },
    );
    try {
      await rawRequest(behindProxy.url, 'POST', '/auth/login', { headers: { 'x-forwarded-for': '203.0.113.7' }, body: '' });
      expect(lastSeen().headers['x-forwarded-for']).toBe('203.0.113.7');
      // What the trusted proxy passed on is not an address: the proxy's own stands for the client.
      auth.seen.length = 0;
      await rawRequest(behindProxy.url, 'POST', '/auth/login', { headers: { 'x-forwarded-for': '203.0.113.8:5555' }, body: '' });
      expect(lastSeen().headers['x-forwarded-for']).toBe('203.0.113.8');
      for (const junk of ['foo', '999.1.1.1', '1.2.3.4:5555:6', 'x'.repeat(3_000)]) {
        auth.seen.length = 0;
        await rawRequest(behindProxy.url, 'POST', '/auth/login', { headers: { 'x-forwarded-for': junk }, body: '' });
        expect(lastSeen().headers['x-forwarded-for']).toBe('127.0.0.1');
      }
    } finally {
      await behindProxy.app.close();
    }
  });
});

describe('the request log', () => {
  it("writes one line per proxied request with the caller's id, never the token; a failed upstream is named on it", async () => {
    const written: string[] = [];
    const logged = await startGateway(
      { auth: await unusedUrl(), event: gateway.event.url, jwks: gateway.auth.url },
      { LOG_LEVEL: 'info' },
      { logDestination: { write: (chunk) => written.push(Buffer.from(chunk).toString('utf8')) } },
    );
    try {
      const token = signer.sign({ sub: '64b7f0c2a1b2c3d4e5f60799', roles: ['USER'] });
      const headers = { authorization: `Bearer ${token}`, 'x-request-id': 'logged-req-0001' };
      expect((await rawRequest(logged.url, 'GET', '/events/64b7f0c2a1b2c3d4e5f60718?page=2', { headers })).status).toBe(200);
      const login = await rawRequest(logged.url, 'POST', '/auth/login', {
        headers: { 'content-type': 'application/json', 'x-request-id': 'logged-req-0002' },
        body: '{}',
      });
      expect(login.status).toBe(503);
      const lines = () =>
        written
          .join('')
          .split('\n')
          .filter((line) => line.includes('"request completed"'))
          .map((line) => JSON.parse(line) as Record<string, unknown>);
      await vi.waitFor(() => expect(lines()).toHaveLength(2));
      expect(lines()).toEqual([
        expect.objectContaining({
          level: 30,
          service: 'gateway',
          reqId: 'logged-req-0001',
          req: { method: 'GET', url: '/events/64b7f0c2a1b2c3d4e5f60718?page=2', remoteAddress: '127.0.0.1' },
          res: { statusCode: 200 },
          responseTime: expect.any(Number),
          userId: '64b7f0c2a1b2c3d4e5f60799',
        }),
        expect.objectContaining({
          level: 40,
          reqId: 'logged-req-0002',
          res: { statusCode: 503 },
          upstream: 'auth',
          code: 'UPSTREAM_UNAVAILABLE',
        }),
      ]);
      expect(lines()[1]).not.toHaveProperty('userId');
      expect(written.join('')).not.toContain(token);
      expect(written.join('')).not.toContain('response errored');
    } finally {
      await logged.app.close();
    }
  });
});

describe('a client that hangs up before its answer', () => {
  it('is no error line (live, 30 logins cut off after 20 ms, no token needed, wrote 30 ERROR "proxy request failed" lines with a stack each)', async () => {
    const written: string[] = [];
    const logged = await startGateway(
      { auth: gateway.auth.url, event: gateway.event.url, jwks: gateway.auth.url },
      { LOG_LEVEL: 'info' },
      { logDestination: { write: (chunk) => written.push(Buffer.from(chunk).toString('utf8')) } },
    );
    // The upstream answers late: each client hangs up once the upstream has its request, before the answer.
    auth.answer = () => ({ delayMs: 2_000, body: { accessToken: 'x' } });
    try {
      const { port } = new URL(logged.url);
      for (let i = 0; i < 3; i += 1) {
        const seen = auth.seen.length;
        const outgoing = request({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/auth/login',
          headers: { 'content-type': 'application/json' },
        });
        outgoing.on('error', () => undefined);
        outgoing.end('{}');
        await vi.waitFor(() => expect(auth.seen).toHaveLength(seen + 1), { timeout: 10_000 });
        outgoing.destroy();
      }
      const lines = () =>
        written
          .join('')
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as { level: number; msg: string });
      // Wait for the gateway to have told each hang-up (its lines are written in batches), then read them all.
      await vi.waitFor(
        () => expect(lines().filter((line) => line.msg === 'the client closed the connection before its answer')).toHaveLength(3),
        { timeout: 10_000 },
      );
      expect(lines().filter((line) => line.level >= 50)).toEqual([]);
    } finally {
      await logged.app.close();
    }
  });
});

describe('access tokens', () => {
  it('refuses missing, expired, tampered and forged tokens with 401, before the upstream', async () => {
    const tokens: Record<string, string | undefined> = {
      missing: undefined,
      expired: signer.sign({ roles: ['ADMIN'] }, { expiresInSeconds: -10 }),
      tampered: TokenForge.tampered(signer.sign({ roles: ['USER'] }), { roles: ['ADMIN'] }),
      'alg none': signer.unsigned({ roles: ['ADMIN'] }),
      'HS256 signed with the public key': signer.hmacWithPublicKey({ roles: ['ADMIN'] }),
      'unknown kid': signer.unknownKid({ roles: ['ADMIN'] }),
      'wrong issuer': signer.sign({ roles: ['ADMIN'] }, { issuer: 'evil-issuer' }),
      'wrong audience': signer.sign({ roles: ['ADMIN'] }, { audience: 'other-app' }),
      garbage: 'abc.def.ghi',
    };
    for (const [name, token] of Object.entries(tokens)) {
      const response = await send('GET', '/users', { headers: token ? { authorization: `Bearer ${token}` } : {} });
      expect(response.status, name).toBe(401);
      expectErrorBody(response, 401, 'UNAUTHORIZED');
    }
    const basic = await send('GET', '/users/me', { headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } });
    expectErrorBody(basic, 401, 'UNAUTHORIZED');
    // A genuine token written with something more than the one plain `Bearer <token>` is not read past.
    const genuine = signer.sign({ roles: ['ADMIN'] });
    for (const authorization of [`Bearer ${genuine} junk`, `Bearer\t${genuine}`, `Bearer ${genuine},x`]) {
      expectErrorBody(await send('GET', '/users', { headers: { authorization } }), 401, 'UNAUTHORIZED');
    }
    // Two Authorization headers: Node keeps the first and drops the rest, so which one counted depended on the
    // order (a proxy in front that reads the last, or adds its own, would judge another caller). Neither is read.
    const user = signer.sign({ roles: ['USER'] });
    for (const pair of [
      [`Bearer ${genuine}`, 'Bearer abc.def.ghi'],
      [`Bearer ${genuine}`, `Bearer ${user}`],
      [`Bearer ${genuine}`, `Bearer ${genuine}`],
    ]) {
      const response = await send('GET', '/users', { headers: { authorization: pair } });
      expectErrorBody(response, 401, 'UNAUTHORIZED');
      expect(response.json()).toMatchObject({ message: 'Authorization must be given once (one header, one token)' });
    }
    expect(auth.seen).toHaveLength(0);
    expect((await send('GET', '/users', { headers: { authorization: `bearer ${genuine}` } })).status).toBe(200);
  });

  it('refuses a valid token without the role with 403, and lets the role through', async () => {
    const refused = await send('GET', '/users', { headers: bearer(['USER', 'OPERATOR', 'AUDITOR']) });
    expectErrorBody(refused, 403, 'FORBIDDEN');
    expect(refused.json()).toMatchObject({ message: 'Requires one of the roles: ADMIN' });
    expect(auth.seen).toHaveLength(0);
    expect((await send('GET', '/users?role=USER', { headers: bearer(['ADMIN']) })).status).toBe(200);
    expect(lastSeen().url).toBe('/users?role=USER');
  });
});

describe('the route policy table, walked over HTTP', () => {
  it.each(ROUTE_POLICIES.map((policy) => [`${policy.method} ${policy.path}`, policy] as const))('%s', async (_name, policy) => {
    const path = concretePath(policy);
    const seenBefore = auth.seen.length + event.seen.length;
    if (policy.access === 'public') {
      const response = await send(policy.method, path);
      expect(response.status).toBe(200);
    } else {
      expectErrorBody(await send(policy.method, path), 401, 'UNAUTHORIZED');
      const required = policy.access;
      for (const role of ROLES.filter(
        (candidate) => candidate !== 'ADMIN' && required.length > 0 && !required.includes(candidate),
      )) {
        expectErrorBody(await send(policy.method, path, { headers: bearer([role]) }), 403, 'FORBIDDEN');
      }
      expect(auth.seen.length + event.seen.length).toBe(seenBefore);
      const allowedRole: Role = required[0] ?? 'USER';
      expect((await send(policy.method, path, { headers: bearer([allowedRole]) })).status).toBe(200);
    }
    if (policy.upstream === 'gateway' || policy.path === '/.well-known/jwks.json') return;
    const upstream = policy.upstream === 'auth' ? auth : event;
    expect(upstream.seen.at(-1)).toMatchObject({ method: policy.method, url: path });
  });
});

describe('unknown routes', () => {
  const UNKNOWN: Array<[string, string]> = [
    ['GET', '/'],
    ['GET', '/auth'],
    ['POST', '/auth/'],
    ['POST', '/auth/login/'],
    ['GET', '/auth/../users'],
    ['GET', '/auth/login/../../users'],
    ['GET', '/users/me/x'],
    ['GET', '/users/me/'],
    ['PATCH', '/users/a%2fb/roles'],
    ['PATCH', '/users/../roles'],
    ['GET', '/USERS/me'],
    ['GET', '//users/me'],
    ['GET', '/internal'],
    ['GET', '/internal/users'],
    ['GET', '/.well-known'],
    ['GET', '/.well-known/openid-configuration'],
    ['GET', '/health/x'],
    ['GET', '/events/x/y'],
    ['POST', '/internal/activities'],
    ['POST', '/internal/audit-logs'],
    ['GET', '/docs//'],
    ['GET', '/docs/package.json'],
    ['GET', '/docs/swagger-ui.css/x'],
    ['GET', '*'],
    ['GET', 'http://127.0.0.1:1/users/me'],
  ];

  it.each(UNKNOWN)('%s %s -> 404 ROUTE_NOT_FOUND, never proxied', async (method, path) => {
    const response = await send(method, path, { headers: bearer(['ADMIN']) });
    expectErrorBody(response, 404, 'ROUTE_NOT_FOUND');
    expect(auth.seen).toHaveLength(0);
    expect(event.seen).toHaveLength(0);
  });

  it('answers a known path with another method with 405, Allow and the error body', async () => {
    for (const [method, path, allow] of [
      ['DELETE', '/users/me', 'GET, HEAD'],
      ['GET', '/auth/login', 'POST'],
      ['PUT', '/users/64b7f0c2a1b2c3d4e5f60718/roles', 'PATCH'],
      ['POST', '/health', 'GET, HEAD'],
      ['OPTIONS', '/users', 'GET, HEAD'],
    ] as const) {
      const response = await send(method, path, { headers: bearer(['ADMIN']) });
      expectErrorBody(response, 405, 'METHOD_NOT_ALLOWED');
      expect(response.headers.allow).toBe(allow);
    }
    expect(auth.seen).toHaveLength(0);
  });
});

describe('body size', () => {
  it('refuses a body over 1 MB with 413 and the error body, and forwards one of exactly 1 MB', async () => {
    const operator = bearer(['OPERATOR']);
    const tooLarge = await send('POST', '/activities', {
      headers: { ...operator, 'content-type': 'application/json' },
      body: 'x'.repeat(1024 * 1024 + 1),
    });
    expectErrorBody(tooLarge, 413, 'PAYLOAD_TOO_LARGE');

    const chunked = await send('POST', '/activities', {
      headers: { ...operator, 'content-type': 'text/plain', 'transfer-encoding': 'chunked' },
      body: 'y'.repeat(1024 * 1024 + 1),
    });
    expectErrorBody(chunked, 413, 'PAYLOAD_TOO_LARGE');
    expect(event.seen).toHaveLength(0);

    event.answer = (seen) => ({ body: { length: seen.body.length } });
    try {
      const fits = await send('POST', '/activities', {
        headers: { ...operator, 'content-type': 'text/plain' },
        body: 'z'.repeat(1024 * 1024),
      });
      expect(fits.status).toBe(200);
      expect(fits.json()).toEqual({ length: 1024 * 1024 });
    } finally {
      event.answer = () => undefined;
    }
  });

  it("takes at most 16 KB on a route that needs no token or a player's, chunked too: only staff send large bodies", async () => {
    const limit = 16 * 1024;
    const bodies: Array<Record<string, string>> = [
      { 'content-type': 'text/plain' },
      { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' },
    ];
    for (const headers of bodies) {
      expectErrorBody(await send('POST', '/auth/register', { headers, body: 'x'.repeat(limit + 1) }), 413, 'PAYLOAD_TOO_LARGE');
    }
    expect(auth.seen).toHaveLength(0);
    // Nor a route any player may call with a token anyone can have for free.
    const player = bearer(['USER']);
    const claim = await send('POST', '/events/665f1c2b9d3e4a0012345678/claims', {
      headers: { ...player, 'content-type': 'application/json' },
      body: `{"pad":"${'x'.repeat(limit)}"}`,
    });
    expectErrorBody(claim, 413, 'PAYLOAD_TOO_LARGE');
    expect(event.seen).toHaveLength(0);
    auth.answer = (seen) => ({ body: { length: seen.body.length } });
    const fits = await send('POST', '/auth/register', { headers: { 'content-type': 'text/plain' }, body: 'z'.repeat(limit) });
    expect(fits.status).toBe(200);
    expect(fits.json()).toEqual({ length: limit });
  });
});

describe('upstream failures', () => {
  it('answers 504 UPSTREAM_TIMEOUT when the upstream is slower than UPSTREAM_TIMEOUT_MS', async () => {
    // undici checks its timeouts on a coarse clock (up to ~1 s late), so the upstream here is far slower.
    auth.answer = () => ({ delayMs: 2_500 });
    const response = await send('POST', '/auth/login', { headers: { 'content-type': 'application/json' }, body: '{}' });
    expectErrorBody(response, 504, 'UPSTREAM_TIMEOUT');
    expect(response.json()).toMatchObject({ message: `auth server did not answer within ${UPSTREAM_TIMEOUT_MS} ms` });
    expect(response.ms).toBeGreaterThanOrEqual(UPSTREAM_TIMEOUT_MS - 50);
    expect(response.ms).toBeLessThan(2_000);
  });

  it('answers a claim with an Idempotency-Key that got no answer in time 409 IDEMPOTENCY_IN_PROGRESS with Retry-After, not 504', async () => {
    event.answer = () => ({ delayMs: 2_500 });
    try {
      const headers = { ...bearer(['USER']), 'content-type': 'application/json' };
      const [keyed, unkeyed] = await Promise.all([
        send('POST', '/events/64b7f0c2a1b2c3d4e5f60718/claims', {
          headers: { ...headers, 'idempotency-key': 'launch-1' },
          body: '{}',
        }),
        send('POST', '/events/64b7f0c2a1b2c3d4e5f60718/claims', { headers, body: '{}' }),
      ]);
      // It may be recorded, or still running: a retry with the key learns which, as the event server says itself.
      expectErrorBody(keyed, 409, 'IDEMPOTENCY_IN_PROGRESS');
      expect(keyed.headers['retry-after']).toBe('1');
      expect(keyed.json()).toMatchObject({
        retryAfterSeconds: 1,
        message: expect.stringContaining('send it again with the same Idempotency-Key'),
      });
      // Without a key there is no such retry: the timeout is said as it is.
      expectErrorBody(unkeyed, 504, 'UPSTREAM_TIMEOUT');
      expect(event.seen).toHaveLength(2);
    } finally {
      event.answer = () => undefined;
    }
  });

  it('marks the next send of a key it answered IDEMPOTENCY_IN_PROGRESS itself, once, so the event server answers it for its key', async () => {
    const user = { ...bearer(['USER']), 'content-type': 'application/json' };
    const path = '/events/64b7f0c2a1b2c3d4e5f60718/claims';
    // A replica that answered nothing for a request's whole time is out until it answers a probe: wait for that.
    const inRotation = () =>
      until(
        'the event server in rotation',
        () => send('GET', '/events/64b7f0c2a1b2c3d4e5f60718', { headers: bearer(['USER']) }),
        (answer) => answer.status === 200,
      );
    await inRotation();
    event.answer = () => ({ delayMs: 2_500 });
    try {
      // And a key longer than the event server takes (it would refuse it 400, nothing recorded): not kept.
      const unanswered = await Promise.all(
        ['late-1', 'k'.repeat(256)].map((key) =>
          send('POST', path, { headers: { ...user, 'idempotency-key': key }, body: '{}' }),
        ),
      );
      for (const answer of unanswered) expectErrorBody(answer, 409, 'IDEMPOTENCY_IN_PROGRESS');
    } finally {
      event.answer = () => undefined;
    }
    await inRotation();
    event.seen.length = 0;
    // No event server owes this client the key's outcome (it said nothing): without the mark, a busy one would
    // shed the retry 503 CLAIMS_BUSY "nothing was recorded", which the 409 just said may not be so.
    for (const key of ['late-1', 'late-1', 'other-1', 'k'.repeat(256)]) {
      const answer = await send('POST', path, { headers: { ...user, 'idempotency-key': key }, body: '{}' });
      expect(answer.status).toBe(200);
    }
    expect(event.seen.map((seen) => seen.headers[RESENT_AFTER_DROP_HEADER])).toEqual(['1', undefined, undefined, undefined]);
  });

  it('marks the next send of a key an event server answered owed (IDEMPOTENCY_IN_PROGRESS), once, and never shows the client that header', async () => {
    const user = { ...bearer(['USER']), 'content-type': 'application/json' };
    const path = '/events/64b7f0c2a1b2c3d4e5f60718/claims';
    const inProgress = {
      status: 409,
      headers: { [ANSWER_OWED_HEADER]: '1', 'retry-after': '1' },
      body: { statusCode: 409, error: 'Conflict', code: 'IDEMPOTENCY_IN_PROGRESS', message: 'still running' },
    };
    event.answer = (seen) => (seen.headers['idempotency-key'] === 'owed-1' && event.seen.length === 1 ? inProgress : undefined);
    event.seen.length = 0;
    try {
      const told = await send('POST', path, { headers: { ...user, 'idempotency-key': 'owed-1' }, body: '{}' });
      expectErrorBody(told, 409, 'IDEMPOTENCY_IN_PROGRESS');
      expect(told.headers[ANSWER_OWED_HEADER]).toBeUndefined();
      for (const key of ['other-2', 'owed-1', 'owed-1']) {
        expect((await send('POST', path, { headers: { ...user, 'idempotency-key': key }, body: '{}' })).status).toBe(200);
      }
    } finally {
      event.answer = () => undefined;
    }
    expect(event.seen.map((seen) => seen.headers[ANSWER_OWED_HEADER])).toEqual([undefined, undefined, '1', undefined]);
    expect(event.seen.every((seen) => seen.headers[RESENT_AFTER_DROP_HEADER] === undefined)).toBe(true);
    // A client's own mark never reaches an event server (every x-internal-* header is dropped).
    event.seen.length = 0;
    await send('POST', path, { headers: { ...user, 'idempotency-key': 'forged-1', [ANSWER_OWED_HEADER]: '1' }, body: '{}' });
    expect(event.seen[0]?.headers[ANSWER_OWED_HEADER]).toBeUndefined();
  });

  it('answers 503 UPSTREAM_UNAVAILABLE fast when the upstream is down', async () => {
    const down = await startGateway({ auth: await unusedUrl(), event: event.url, jwks: auth.url });
    try {
      const publicRoute = await rawRequest(down.url, 'POST', '/auth/login', {
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expectErrorBody(publicRoute, 503, 'UPSTREAM_UNAVAILABLE');
      expect(publicRoute.json()).toMatchObject({ message: 'auth server is unavailable' });
      expect(publicRoute.ms).toBeLessThan(2_000);
      // Nothing was recorded: come back after the replica cooldown (UPSTREAM_REPLICA_COOLDOWN_MS, 5 s by default).
      expect(publicRoute.headers['retry-after']).toBe('5');
      expect(publicRoute.json()).toMatchObject({ retryAfterSeconds: 5 });

      const protectedRoute = await rawRequest(down.url, 'GET', '/users/me', { headers: bearer(['USER']) });
      expectErrorBody(protectedRoute, 503, 'UPSTREAM_UNAVAILABLE');
      expect(protectedRoute.ms).toBeLessThan(2_000);
      expect(protectedRoute.headers['retry-after']).toBe('5');
      expect(protectedRoute.json()).toMatchObject({ retryAfterSeconds: 5 });
    } finally {
      await down.app.close();
    }
  });
});
