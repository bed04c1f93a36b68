import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseName } from '../../../test-support/database.js';
import { TokenForge, rsaPrivateKeyPem } from '../../../test-support/tokens.js';
import { call, login, openTestDatabase, register, signedInUser, startTestApp, testConfig } from '../testing/auth-test-app.js';
import { TokensService } from './tokens.service.js';

const dbName = testDatabaseName('tokens');
const privateKeyPem = rsaPrivateKeyPem();
let app: NestFastifyApplication;
let db: mongoose.Connection;
let kid: string;

beforeAll(async () => {
  app = await startTestApp(testConfig(dbName, { JWT_PRIVATE_KEY: privateKeyPem.replace(/\n/g, '\\n') }));
  db = await openTestDatabase(dbName);
  const jwks = await call(app, 'GET', '/.well-known/jwks.json');
  kid = (jwks.body.keys as Array<{ kid: string }>)[0]!.kid;
});

afterAll(async () => {
  await app?.close();
  await db?.dropDatabase();
  await db?.close();
});

const refresh = (refreshToken: unknown) => call(app, 'POST', '/auth/refresh', { body: { refreshToken } });
const decode = (token: string, part: 0 | 1): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[part]!, 'base64url').toString('utf8')) as Record<string, unknown>;

describe('POST /auth/login', () => {
  it('returns an RS256 access token with our claims and an opaque refresh token', async () => {
    const user = await register(app);
    const reply = await login(app, ` ${user.email.toUpperCase()} `, user.password);
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.body).sort()).toEqual(['accessToken', 'expiresIn', 'refreshToken', 'tokenType']);
    expect(reply.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    const accessToken = reply.body.accessToken as string;
    expect(decode(accessToken, 0)).toMatchObject({ alg: 'RS256', kid });
    const claims = decode(accessToken, 1);
    expect(claims).toMatchObject({ sub: user.body.id, roles: ['USER'], iss: 'reward-platform-auth', aud: 'reward-platform' });
    expect((claims.exp as number) - (claims.iat as number)).toBe(900);
    expect(reply.body.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // Only the SHA-256 of the refresh token is stored.
    const stored = await db.collection('refresh_tokens').findOne({ userId: user.body.id });
    expect(JSON.stringify(stored)).not.toContain(reply.body.refreshToken as string);
  });

  it('gives the same 401 for a wrong password and an unknown email', async () => {
    const user = await register(app);
    const wrong = await login(app, user.email, 'wrong-password');
    const unknown = await login(app, 'nobody@example.com', 'wrong-password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body).toMatchObject({ code: 'INVALID_CREDENTIALS' });
  });

  it('refuses a password whose first 72 bytes match but that is longer', async () => {
    // 72 bytes (bcrypt's limit), of 36 different characters: a password the rules accept.
    const password = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(2);
    const user = await register(app, { password });
    expect(user.status).toBe(201);
    expect((await login(app, user.email, password)).status).toBe(200);
    expect((await login(app, user.email, `${password}tail`)).status).toBe(401);
  });

  it.each([
    ['an operator for email', { email: { $gt: '' }, password: 'x' }],
    ['an operator for password', { email: 'a@example.com', password: { $ne: null } }],
    ['an unknown field', { email: 'a@example.com', password: 'x', remember: true }],
    ['a password with NUL', { email: 'a@example.com', password: 'pass\u0000pass\u0000pass' }],
  ])('refuses %s with 400', async (_name, body) => {
    const reply = await call(app, 'POST', '/auth/login', { body });
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('VALIDATION_FAILED');
  });
});

describe('POST /auth/refresh', () => {
  it('rotates: the new pair works, the old refresh token does not', async () => {
    const user = await signedInUser(app);
    const first = await refresh(user.refreshToken);
    expect(first.status).toBe(200);
    expect(first.body.refreshToken).not.toBe(user.refreshToken);
    expect((await call(app, 'GET', '/users/me', { token: first.body.accessToken as string })).status).toBe(200);
    const second = await refresh(first.body.refreshToken);
    expect(second.status).toBe(200);
  });

  it('treats reuse of a rotated token as theft: 401 REFRESH_TOKEN_REUSED and the newest token of the family dies too', async () => {
    const user = await signedInUser(app);
    const rotated = await refresh(user.refreshToken);
    expect(rotated.status).toBe(200);

    const replay = await refresh(user.refreshToken);
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('REFRESH_TOKEN_REUSED');

    const newest = await refresh(rotated.body.refreshToken);
    expect(newest.status).toBe(401);
    expect(newest.body.code).toBe('INVALID_REFRESH_TOKEN');

    // Another login of the same user is a different family and keeps working.
    const other = await login(app, user.email, user.password);
    expect((await refresh(other.body.refreshToken)).status).toBe(200);
  });

  it('lets exactly one of 20 parallel refreshes with one token succeed', async () => {
    const user = await signedInUser(app);
    const replies = await Promise.all(Array.from({ length: 20 }, () => refresh(user.refreshToken)));
    expect(replies.filter((reply) => reply.status === 200)).toHaveLength(1);
    expect(replies.filter((reply) => reply.status === 401)).toHaveLength(19);
    expect(await db.collection('refresh_tokens').countDocuments({ parentId: { $exists: true }, userId: user.id })).toBe(1);
    // The losers count as reuse, so the family is revoked: even the winner's new token is dead.
    const winner = replies.find((reply) => reply.status === 200)!;
    expect((await refresh(winner.body.refreshToken)).status).toBe(401);
  });

  it.each([
    ['an unknown token', 'A'.repeat(43)],
    ['an empty token', ''],
  ])('refuses %s', async (_name, token) => {
    const reply = await refresh(token);
    expect(reply.status).toBe(token === '' ? 400 : 401);
    expect(reply.body.code).toBe(token === '' ? 'VALIDATION_FAILED' : 'INVALID_REFRESH_TOKEN');
  });

  it('refuses an expired refresh token', async () => {
    const user = await signedInUser(app);
    await db.collection('refresh_tokens').updateMany({ userId: user.id }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    const reply = await refresh(user.refreshToken);
    expect(reply.status).toBe(401);
    expect(reply.body.code).toBe('INVALID_REFRESH_TOKEN');
  });

  it('refuses an operator instead of a token', async () => {
    const reply = await refresh({ $ne: null });
    expect(reply.status).toBe(400);
  });
});

describe('POST /auth/refresh with an Idempotency-Key (a retry of a refresh whose answer was lost)', () => {
  const keyed = (refreshToken: string, key: string) =>
    call(app, 'POST', '/auth/refresh', { body: { refreshToken }, headers: { 'idempotency-key': key } });
  const liveFamily = async (userId: string) =>
    (await db.collection('refresh_token_family_revocations').countDocuments({ userId })) === 0;

  it('answers the same new refresh token again, which then works; the login lives on', async () => {
    const user = await signedInUser(app);
    const first = await keyed(user.refreshToken, 'refresh-1');
    expect(first.status).toBe(200);
    // The answer was lost: the client sends the same token with the same key.
    const retry = await keyed(user.refreshToken, 'refresh-1');
    expect(retry.status).toBe(200);
    expect(retry.body.refreshToken).toBe(first.body.refreshToken);
    expect(retry.body.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await call(app, 'GET', '/users/me', { token: retry.body.accessToken as string })).status).toBe(200);
    expect(await db.collection('refresh_tokens').countDocuments({ userId: user.id, parentId: { $exists: true } })).toBe(1);
    expect(await liveFamily(user.id)).toBe(true);
    // The new token rotates as any other, with or without a key.
    expect((await refresh(retry.body.refreshToken)).status).toBe(200);
  });

  it('lets 20 parallel sends of one token under one key all succeed with one new token', async () => {
    const user = await signedInUser(app);
    const replies = await Promise.all(Array.from({ length: 20 }, () => keyed(user.refreshToken, 'same-key')));
    expect(replies.map((reply) => reply.status)).toEqual(Array.from({ length: 20 }, () => 200));
    expect(new Set(replies.map((reply) => reply.body.refreshToken)).size).toBe(1);
    expect(await db.collection('refresh_tokens').countDocuments({ userId: user.id, parentId: { $exists: true } })).toBe(1);
    expect(await liveFamily(user.id)).toBe(true);
    expect((await refresh(replies[0]!.body.refreshToken as string)).status).toBe(200);
  });

  it.each([
    ['another key', 'refresh-a', 'refresh-b'],
    ['no key', 'refresh-a', undefined],
  ] as const)('treats the token sent again with %s as reuse: the login ends', async (_name, firstKey, secondKey) => {
    const user = await signedInUser(app);
    const first = await keyed(user.refreshToken, firstKey);
    expect(first.status).toBe(200);
    const again = secondKey === undefined ? await refresh(user.refreshToken) : await keyed(user.refreshToken, secondKey);
    expect(again.status).toBe(401);
    expect(again.body.code).toBe('REFRESH_TOKEN_REUSED');
    expect((await refresh(first.body.refreshToken as string)).body.code).toBe('INVALID_REFRESH_TOKEN');
  });

  it("answers a replay with the first answer's access token lifetime: replays never extend a session", async () => {
    const user = await signedInUser(app);
    const first = await keyed(user.refreshToken, 'k');
    // The rotation was stored four minutes ago (as if): the replay's access token expires when the first one's does.
    await db
      .collection('refresh_tokens')
      .updateOne({ userId: user.id, parentId: { $exists: true } }, { $set: { createdAt: new Date(Date.now() - 4 * 60_000) } });
    const replay = await keyed(user.refreshToken, 'k');
    expect(replay.status).toBe(200);
    const expiry = (token: unknown) => decode(token as string, 1).exp as number;
    expect(expiry(replay.body.accessToken)).toBeLessThanOrEqual(expiry(first.body.accessToken) - 4 * 60 + 1);
    // And it says so: what is left of its lifetime, not the whole of it.
    expect(replay.body.expiresIn).toBeLessThanOrEqual(900 - 4 * 60 + 1);
    expect(replay.body.expiresIn).toBeGreaterThan(900 - 4 * 60 - 60);
    expect((await call(app, 'GET', '/users/me', { token: replay.body.accessToken as string })).status).toBe(200);
  });

  it('treats a keyed retry as reuse once the new token was used, or after the retry window', async () => {
    const used = await signedInUser(app);
    const first = await keyed(used.refreshToken, 'k');
    expect((await refresh(first.body.refreshToken as string)).status).toBe(200);
    const late = await keyed(used.refreshToken, 'k');
    expect(late.status).toBe(401);
    expect(late.body.code).toBe('REFRESH_TOKEN_REUSED');
    expect(await liveFamily(used.id)).toBe(false);

    const slow = await signedInUser(app);
    expect((await keyed(slow.refreshToken, 'k')).status).toBe(200);
    await db
      .collection('refresh_tokens')
      .updateOne(
        { userId: slow.id, parentId: { $exists: true } },
        { $set: { createdAt: new Date(Date.now() - 5 * 60_000 - 1000) } },
      );
    const afterWindow = await keyed(slow.refreshToken, 'k');
    expect(afterWindow.status).toBe(401);
    expect(afterWindow.body.code).toBe('REFRESH_TOKEN_REUSED');
  });

  it('makes a different new token for each token and key, none the token itself', async () => {
    const a = await signedInUser(app);
    const b = await signedInUser(app);
    const [ak, bk] = await Promise.all([keyed(a.refreshToken, 'k'), keyed(b.refreshToken, 'k')]);
    expect(ak.body.refreshToken).not.toBe(bk.body.refreshToken);
    const ak2 = await keyed(ak.body.refreshToken as string, 'k');
    expect(ak2.status).toBe(200);
    expect(ak2.body.refreshToken).not.toBe(ak.body.refreshToken);
    // Only hashes are stored, keyed tokens included.
    const stored = await db.collection('refresh_tokens').find({ userId: a.id }).toArray();
    expect(JSON.stringify(stored)).not.toContain(ak2.body.refreshToken as string);
  });

  it.each([
    ['an empty key', ''],
    ['a key with a space', 'has space'],
    ['a key of 256 characters', 'k'.repeat(256)],
  ])('refuses %s with 400 INVALID_IDEMPOTENCY_KEY, rotating nothing', async (_name, key) => {
    const user = await signedInUser(app);
    const reply = await keyed(user.refreshToken, key);
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('INVALID_IDEMPOTENCY_KEY');
    expect((await refresh(user.refreshToken)).status).toBe(200);
  });
});

describe('a refresh is a sign-in', () => {
  const logins = (userId: string) =>
    db.collection('outbox').countDocuments({ kind: 'ACTIVITY', 'payload.userId': userId, 'payload.type': 'LOGIN' });

  it('records a LOGIN for a session resumed in a later quarter hour, at most one per quarter hour, none when refused', async () => {
    const user = await signedInUser(app);
    expect(await logins(user.id)).toBe(1);
    // Refreshed at once (the same quarter hour as the login): its LOGIN is the login's, nothing more.
    const soon = await refresh(user.refreshToken);
    expect(soon.status).toBe(200);
    expect(await logins(user.id)).toBe(1);
    // The client comes back 20 minutes later with the token it kept: a sign-in of its own.
    await db
      .collection('refresh_tokens')
      .updateOne({ userId: user.id, parentId: { $ne: null } }, { $set: { createdAt: new Date(Date.now() - 20 * 60_000) } });
    const later = await refresh(soon.body.refreshToken);
    expect(later.status).toBe(200);
    expect(await logins(user.id)).toBe(2);
    // A client refreshing in a loop records nothing more; a refused refresh records nothing.
    let token = later.body.refreshToken;
    for (let round = 0; round < 5; round += 1) token = (await refresh(token)).body.refreshToken;
    expect((await refresh(user.refreshToken)).status).toBe(401);
    expect((await refresh('y'.repeat(43))).status).toBe(401);
    expect(await logins(user.id)).toBe(2);
  });
});

describe('expired refresh tokens are deleted', () => {
  it('deletes expired tokens and revocations older than a lifetime, keeps the rest, and answers as before', async () => {
    const expired = await signedInUser(app);
    const live = await signedInUser(app);
    const revoked = await signedInUser(app);
    expect(
      (await call(app, 'POST', '/auth/logout', { token: revoked.accessToken, body: { refreshToken: revoked.refreshToken } }))
        .status,
    ).toBe(204);
    await db
      .collection('refresh_tokens')
      .updateMany(
        { userId: expired.id },
        { $set: { expiresAt: new Date(Date.now() - 1000), keepUntil: new Date(Date.now() - 1000) } },
      );
    const longAgo = new Date(Date.now() - 31 * 86_400_000 - 86_400_000 - 1000);
    const oldRevocation = { _id: 'a'.repeat(24), userId: revoked.id, reason: 'LOGOUT', revokedAt: longAgo };
    await db.collection('refresh_token_family_revocations').insertOne(oldRevocation as never);
    // As old, but its login still has a token that has not expired (issued with a longer lifetime than today's):
    // the revocation stays, or that token would work again.
    const stillLive = await signedInUser(app);
    const stillLiveFamily = (await db.collection('refresh_tokens').findOne({ userId: stillLive.id }))!.familyId as string;
    await db
      .collection('refresh_token_family_revocations')
      .insertOne({ _id: stillLiveFamily, userId: stillLive.id, reason: 'LOGOUT', revokedAt: longAgo } as never);

    expect(await app.get(TokensService).deleteExpired()).toBeGreaterThanOrEqual(2);

    expect(await db.collection('refresh_tokens').countDocuments({ userId: expired.id })).toBe(0);
    expect(await db.collection('refresh_tokens').countDocuments({ userId: live.id })).toBe(1);
    expect(await db.collection('refresh_token_family_revocations').countDocuments({ _id: 'a'.repeat(24) } as never)).toBe(0);
    expect(await db.collection('refresh_token_family_revocations').countDocuments({ _id: stillLiveFamily } as never)).toBe(1);
    expect((await refresh(stillLive.refreshToken)).status).toBe(401);
    // The recent revocation stays: the logged-out login is still refused, the expired one as before.
    expect((await refresh(revoked.refreshToken)).body.code).toBe('INVALID_REFRESH_TOKEN');
    expect((await refresh(expired.refreshToken)).body.code).toBe('INVALID_REFRESH_TOKEN');
    expect((await refresh(live.refreshToken)).status).toBe(200);
  });

  it("keeps an expired successor while its parent lives (a lifetime lowered since): the stolen parent's reuse is still found", async () => {
    const user = await signedInUser(app);
    const owner = await refresh(user.refreshToken);
    expect(owner.status).toBe(200);
    const tokens = db.collection('refresh_tokens');
    const parent = (await tokens.findOne({ userId: user.id, parentId: { $exists: false } }))!;
    const successor = (await tokens.findOne({ userId: user.id, parentId: { $exists: true } }))!;
    // As stored by a rotation: the successor's row stays at least as long as its parent can be presented.
    expect((successor.keepUntil as Date).getTime()).toBeGreaterThanOrEqual((parent.expiresAt as Date).getTime());
    // The successor was issued under a lower lifetime than its parent's and has expired (its row kept for the parent).
    await tokens.updateOne(
      { _id: successor._id },
      { $set: { expiresAt: new Date(Date.now() - 1000), keepUntil: parent.expiresAt } },
    );
    await app.get(TokensService).deleteExpired();
    expect(await tokens.countDocuments({ userId: user.id })).toBe(2);
    const thief = await refresh(user.refreshToken);
    expect(thief.status).toBe(401);
    expect(thief.body.code).toBe('REFRESH_TOKEN_REUSED');

    // Once the parent has expired too, both go.
    const past = new Date(Date.now() - 1000);
    await tokens.updateMany({ userId: user.id }, { $set: { expiresAt: past, keepUntil: past } });
    await app.get(TokensService).deleteExpired();
    expect(await tokens.countDocuments({ userId: user.id })).toBe(0);
  });
});

describe('POST /auth/logout', () => {
  it('revokes the login: 204, then the refresh token is refused', async () => {
    const user = await signedInUser(app);
    const reply = await call(app, 'POST', '/auth/logout', { token: user.accessToken, body: { refreshToken: user.refreshToken } });
    expect(reply.status).toBe(204);
    const after = await refresh(user.refreshToken);
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('INVALID_REFRESH_TOKEN');
  });

  it("answers 204 for an unknown token and for someone else's token, and revokes nothing", async () => {
    const alice = await signedInUser(app);
    const bob = await signedInUser(app);
    const unknown = await call(app, 'POST', '/auth/logout', { token: alice.accessToken, body: { refreshToken: 'A'.repeat(43) } });
    expect(unknown.status).toBe(204);
    const foreign = await call(app, 'POST', '/auth/logout', {
      token: alice.accessToken,
      body: { refreshToken: bob.refreshToken },
    });
    expect(foreign.status).toBe(204);
    expect((await refresh(bob.refreshToken)).status).toBe(200);
  });

  it('needs an access token', async () => {
    const user = await signedInUser(app);
    const reply = await call(app, 'POST', '/auth/logout', { body: { refreshToken: user.refreshToken } });
    expect(reply.status).toBe(401);
    expect((await refresh(user.refreshToken)).status).toBe(200);
  });
});

describe('access tokens are verified (signature, alg, kid, iss, aud, exp)', () => {
  // The server's own key: the forgeries below differ from a valid token only where they say.
  const forge = TokenForge.fromPrivateKey(privateKeyPem);
  const admin = { sub: '0123456789abcdef01234567', roles: ['ADMIN'] };
  const me = (token: string) => call(app, 'GET', '/users/me', { token });

  it('a token we sign ourselves with the right key is accepted (control)', async () => {
    expect(forge.kid).toBe(kid);
    const user = await signedInUser(app);
    expect((await me(forge.sign({ sub: user.id, roles: ['USER'] }, { expiresInSeconds: 60 }))).status).toBe(200);
  });

  it('expired', async () => {
    const reply = await me(forge.expired(admin));
    expect(reply.status).toBe(401);
    expect(reply.body.code).toBe('UNAUTHORIZED');
  });

  it('tampered payload', async () => {
    const user = await signedInUser(app);
    const reply = await call(app, 'GET', '/users', { token: TokenForge.tampered(user.accessToken, { roles: ['ADMIN'] }) });
    expect(reply.status).toBe(401);
  });

  it('alg none', async () => {
    expect((await call(app, 'GET', '/users', { token: forge.unsigned(admin) })).status).toBe(401);
  });

  it('HS256 signed with the public key as the secret', async () => {
    expect((await call(app, 'GET', '/users', { token: forge.hmacWithPublicKey(admin) })).status).toBe(401);
  });

  it('unknown kid, and a foreign key under its own kid', async () => {
    expect((await me(forge.sign(admin, { kid: 'some-other-kid' }))).status).toBe(401);
    expect((await me(TokenForge.generate().sign(admin))).status).toBe(401);
    expect((await me(forge.unknownKid(admin))).status).toBe(401);
    expect((await me(forge.wrongKeySameKid(admin))).status).toBe(401);
  });

  it('wrong issuer or audience', async () => {
    expect((await me(forge.sign(admin, { issuer: 'someone-else' }))).status).toBe(401);
    expect((await me(forge.sign(admin, { audience: 'another-app' }))).status).toBe(401);
  });

  it('garbage and a missing scheme', async () => {
    expect((await me('not.a.jwt')).status).toBe(401);
    expect((await call(app, 'GET', '/users/me', { headers: { authorization: 'Basic abc' } })).status).toBe(401);
  });
});
