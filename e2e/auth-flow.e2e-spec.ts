import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, type TokenPair, signUp, uniqueEmail } from './support/client.js';
import { ADMIN, type Stack, startStack } from './support/stack.js';
import { TokenForge } from '../test-support/tokens.js';

interface User {
  id: string;
  email: string;
  nickname?: string;
  roles: string[];
  referralCode: string;
  createdAt: string;
}

describe('auth through the gateway', () => {
  let stack: Stack;
  let api: Client;
  let forge: TokenForge;
  let admin: TokenPair;

  beforeAll(async () => {
    stack = await startStack('auth_flow');
    api = new Client(stack.gatewayUrl);
    forge = TokenForge.fromPrivateKey(stack.privateKeyPem);
    const login = await api.post<TokenPair>('/auth/login', ADMIN);
    expect(login.status).toBe(200);
    admin = login.body;
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('registers, logs in, reads /users/me, refreshes and logs out', async () => {
    const email = uniqueEmail();
    const registered = await api.post<User>('/auth/register', { email, password: 'long-enough-pw', nickname: 'Neo' });
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ email, nickname: 'Neo', roles: ['USER'] });
    expect(registered.body.id).toMatch(/^[0-9a-f]{24}$/);
    expect(registered.body.referralCode).toEqual(expect.any(String));
    expect(JSON.stringify(registered.body)).not.toMatch(/password|_id|__v/i);

    const login = await api.post<TokenPair>('/auth/login', { email, password: 'long-enough-pw' });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });

    const me = await api.get<User>('/users/me', login.body.accessToken);
    expect(me.status).toBe(200);
    expect(me.body).toEqual(registered.body);

    const refreshed = await api.post<TokenPair>('/auth/refresh', { refreshToken: login.body.refreshToken });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refreshToken).not.toBe(login.body.refreshToken);
    expect((await api.get('/users/me', refreshed.body.accessToken)).status).toBe(200);

    const logout = await api.post('/auth/logout', { refreshToken: refreshed.body.refreshToken }, refreshed.body.accessToken);
    expect(logout.status).toBe(204);
    const afterLogout = await api.post('/auth/refresh', { refreshToken: refreshed.body.refreshToken });
    expect(afterLogout.status).toBe(401);
  });

  it('answers a duplicate email with 409 EMAIL_TAKEN and a wrong password like an unknown email', async () => {
    const player = await signUp(api);
    const again = await api.post('/auth/register', { email: player.email.toUpperCase(), password: 'another-password' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('EMAIL_TAKEN');

    const wrongPassword = await api.post('/auth/login', { email: player.email, password: 'wrong-password!' });
    const unknownEmail = await api.post('/auth/login', { email: uniqueEmail('ghost'), password: 'wrong-password!' });
    expect(wrongPassword.status).toBe(401);
    expect(wrongPassword.body).toEqual(unknownEmail.body);
    expect(wrongPassword.body.code).toBe('INVALID_CREDENTIALS');
  });

  it('never grants a role at registration and rejects hostile bodies with a code', async () => {
    const withRoles = await api.post('/auth/register', { email: uniqueEmail(), password: 'long-enough-pw', roles: ['ADMIN'] });
    expect(withRoles.status).toBe(400);
    expect(withRoles.body.code).toBe('VALIDATION_FAILED');

    const injection = await api.post('/auth/login', { email: { $gt: '' }, password: { $gt: '' } });
    expect(injection.status).toBe(400);
    expect(injection.body.code).toBeTruthy();

    const malformed = await api.request('POST', '/auth/login', { rawBody: '{"email": "a@b.c",' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('INVALID_JSON');

    const oversized = await api.request('POST', '/auth/register', {
      rawBody: JSON.stringify({ email: uniqueEmail(), password: 'x'.repeat(1_100_000) }),
    });
    expect(oversized.status).toBe(413);
    expect(oversized.body.code).toBe('PAYLOAD_TOO_LARGE');

    const shortPassword = await api.post('/auth/register', { email: uniqueEmail(), password: 'short' });
    expect(shortPassword.status).toBe(400);
  });

  it('lets ADMIN list users and change roles, effective at the next token', async () => {
    const player = await signUp(api);
    const forbidden = await api.get('/users', player.tokens.accessToken);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.code).toBe('FORBIDDEN');

    const listed = await api.get<{ items: User[]; page: number; limit: number; total: number }>(
      '/users?role=ADMIN&limit=5',
      admin.accessToken,
    );
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({ page: 1, limit: 5 });
    expect(listed.body.items.every((user) => user.roles.includes('ADMIN'))).toBe(true);
    expect(listed.body.items.map((user) => user.email)).toContain(ADMIN.email);

    const badLimit = await api.get('/users?limit=101', admin.accessToken);
    expect(badLimit.status).toBe(400);

    const malformedId = await api.patch('/users/not-an-id/roles', { roles: ['OPERATOR'] }, admin.accessToken);
    expect(malformedId.status).toBe(400);
    expect(malformedId.body.code).toBe('INVALID_ID');

    const changed = await api.patch<User>(`/users/${player.id}/roles`, { roles: ['USER', 'OPERATOR'] }, admin.accessToken);
    expect(changed.status).toBe(200);
    expect(changed.body.roles.sort()).toEqual(['OPERATOR', 'USER']);

    // The old access token still carries the old roles; the next one carries the new.
    const refreshed = await api.post<TokenPair>('/auth/refresh', { refreshToken: player.tokens.refreshToken });
    expect(refreshed.status).toBe(200);
    const claims = JSON.parse(Buffer.from(refreshed.body.accessToken.split('.')[1] as string, 'base64url').toString());
    expect(claims.roles.sort()).toEqual(['OPERATOR', 'USER']);
  });

  it('refuses missing, expired, tampered, unsigned, HS256 and unknown-kid tokens with 401', async () => {
    const player = await signUp(api);
    const who = { sub: player.id, roles: ['ADMIN'] };
    const jwks = await api.get<{ keys: Array<Record<string, unknown>> }>('/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    const jwk = jwks.body.keys[0] as Record<string, unknown>;
    expect(jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', kid: forge.kid });
    expect(jwk).not.toHaveProperty('d');
    const publicPem = createPublicKey({ key: jwk as never, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    // The forgeries below use the key exactly as published.
    expect(publicPem).toBe(forge.publicKeyPem);

    const attempts: Record<string, string | undefined> = {
      missing: undefined,
      garbage: 'not.a.token',
      expired: forge.expired(who),
      tampered: TokenForge.tampered(player.tokens.accessToken, { roles: ['ADMIN'] }),
      'alg none': forge.unsigned(who),
      'HS256 with the public key': forge.hmacWithPublicKey(who),
      'unknown kid': forge.unknownKid(who),
      'other key, real kid': forge.wrongKeySameKid(who),
      'wrong issuer': forge.sign(who, { issuer: 'someone-else' }),
      'wrong audience': forge.sign(who, { audience: 'another-app' }),
    };
    for (const [name, token] of Object.entries(attempts)) {
      const reply = await api.get('/users', token);
      expect(reply.status, name).toBe(401);
      expect(reply.body.code, name).toBe('UNAUTHORIZED');
    }
    // The same checks hold when the auth server is reached without the gateway.
    const direct = new Client(stack.authUrl);
    expect((await direct.get('/users', attempts['alg none'])).status).toBe(401);
    expect((await direct.get('/users', attempts['HS256 with the public key'])).status).toBe(401);
    expect((await direct.get('/users', player.tokens.accessToken)).status).toBe(403);
    // A correctly signed token is accepted, which shows the refusals above are about the token; the staff route
    // then goes by the caller's current roles (the player's token claiming ADMIN is 403, the admin's is 200).
    expect((await api.get('/users', forge.sign(who))).status).toBe(403);
    const adminId = (await api.get<{ id: string }>('/users/me', admin.accessToken)).body.id;
    expect((await api.get('/users', forge.sign({ sub: adminId, roles: ['ADMIN'] }))).status).toBe(200);
  });

  it('answers unknown routes with 404 and the error body', async () => {
    for (const path of ['/', '/nope', '/auth', '/users/me/extra', '/internal/metrics', '/events-but-not-really']) {
      const reply = await api.get(path, admin.accessToken);
      expect(reply.status, path).toBe(404);
      expect(reply.body, path).toMatchObject({ statusCode: 404, error: 'Not Found' });
      expect(reply.body.code, path).toEqual(expect.any(String));
    }
  });

  it('ignores identity headers a client sends', async () => {
    const player = await signUp(api);
    const reply = await api.request<User>('GET', '/users/me', {
      token: player.tokens.accessToken,
      headers: { 'x-user-id': '000000000000000000000000', 'x-user-roles': 'ADMIN', 'x-roles': 'ADMIN' },
    });
    expect(reply.status).toBe(200);
    expect(reply.body.id).toBe(player.id);
    const escalate = await api.request('GET', '/users', {
      token: player.tokens.accessToken,
      headers: { 'x-user-roles': 'ADMIN', 'x-roles': 'ADMIN' },
    });
    expect(escalate.status).toBe(403);
  });

  it('makes a reused refresh token revoke the whole family', async () => {
    const player = await signUp(api);
    const first = await api.post<TokenPair>('/auth/refresh', { refreshToken: player.tokens.refreshToken });
    expect(first.status).toBe(200);
    // The thief replays the old token: refused, and the family dies with it.
    const replay = await api.post('/auth/refresh', { refreshToken: player.tokens.refreshToken });
    expect(replay.status).toBe(401);
    const owner = await api.post('/auth/refresh', { refreshToken: first.body.refreshToken });
    expect(owner.status).toBe(401);
  });

  it('changes a password through the gateway: the old one and every session end, the new one signs in', async () => {
    const player = await signUp(api, 'changer');
    const changed = await api.post(
      '/users/me/password',
      { currentPassword: player.password, newPassword: 'another-horse-battery' },
      player.tokens.accessToken,
    );
    expect(changed.status).toBe(204);
    expect((await api.post('/auth/refresh', { refreshToken: player.tokens.refreshToken })).status).toBe(401);
    expect((await api.post('/auth/login', { email: player.email, password: player.password })).status).toBe(401);
    expect((await api.post('/auth/login', { email: player.email, password: 'another-horse-battery' })).status).toBe(200);
    const wrong = await api.post('/users/me/password', { currentPassword: 'x', newPassword: 'password-123' });
    expect(wrong.status).toBe(401);
  });

  it('lets exactly one of 20 parallel refreshes with one token succeed', async () => {
    const player = await signUp(api);
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => api.post('/auth/refresh', { refreshToken: player.tokens.refreshToken })),
    );
    const statuses = replies.map((reply) => reply.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 401)).toHaveLength(19);
  });

  it('generates an x-request-id or accepts a well-formed one', async () => {
    const generated = await api.get('/health');
    expect(generated.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9._:-]{8,128}$/);
    const given = await api.request('GET', '/.well-known/jwks.json', { headers: { 'x-request-id': 'trace-1234-abcd' } });
    expect(given.headers.get('x-request-id')).toBe('trace-1234-abcd');
    const hostile = await api.request('GET', '/health', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(hostile.headers.get('x-request-id')).not.toContain(' ');
  });
});
