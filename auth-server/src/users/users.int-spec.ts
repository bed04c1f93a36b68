import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseName } from '../../../test-support/database.js';
import { rsaPrivateKeyPem } from '../../../test-support/tokens.js';
import {
  call,
  login,
  loginFrom,
  openTestDatabase,
  register,
  signedInAdmin,
  signedInUser,
  startTestApp,
  testConfig,
  uniqueEmail,
} from '../testing/auth-test-app.js';

const dbName = testDatabaseName('users');
const signingKey = rsaPrivateKeyPem();
let app: NestFastifyApplication;
let db: mongoose.Connection;
let admin: { accessToken: string };

beforeAll(async () => {
  app = await startTestApp(testConfig(dbName, { JWT_PRIVATE_KEY: signingKey }));
  db = await openTestDatabase(dbName);
  admin = await signedInAdmin(app);
});

afterAll(async () => {
  await app?.close();
  await db?.dropDatabase();
  await db?.close();
});

const userCount = (filter: Record<string, unknown> = {}): Promise<number> => db.collection('users').countDocuments(filter);

describe('POST /auth/register', () => {
  it('creates a USER with a normalised email and a referral code, and never returns the hash', async () => {
    const reply = await call(app, 'POST', '/auth/register', {
      body: { email: '  Mixed.Case@Example.COM ', password: 'password-123', nickname: ' Alice ' },
    });
    expect(reply.status).toBe(201);
    expect(Object.keys(reply.body).sort()).toEqual(['createdAt', 'email', 'id', 'nickname', 'referralCode', 'roles']);
    expect(reply.body).toMatchObject({ email: 'mixed.case@example.com', nickname: 'Alice', roles: ['USER'] });
    expect(reply.body.id).toMatch(/^[0-9a-f]{24}$/);
    expect(reply.body.referralCode).toMatch(/^[A-Z0-9]{8}$/);
    expect(new Date(reply.body.createdAt as string).toISOString()).toBe(reply.body.createdAt);

    const stored = await db.collection('users').findOne({ email: 'mixed.case@example.com' });
    expect(stored?.passwordHash).toMatch(/^\$2[aby]\$04\$/);
    expect(stored?.passwordHash).not.toContain('password-123');
  });

  it('gives nickname null when none is given', async () => {
    const reply = await register(app);
    expect(reply.status).toBe(201);
    expect(reply.body.nickname).toBeNull();
  });

  it('refuses the same email in another case with 409 EMAIL_TAKEN', async () => {
    const first = await register(app, { email: 'taken@example.com' });
    expect(first.status).toBe(201);
    const second = await register(app, { email: 'TAKEN@example.com ' });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ statusCode: 409, error: 'Conflict', code: 'EMAIL_TAKEN' });
  });

  it('refuses invisible formatting characters in the email and bidirectional ones in the nickname with 400, creating nothing', async () => {
    const before = await userCount();
    for (const email of [
      'admin\u200b@example.com',
      '\u202eadmin@example.com',
      'ad\u00admin@example.com',
      'ad\ufeffmin@example.com',
    ]) {
      const reply = await call(app, 'POST', '/auth/register', { body: { email, password: 'password-123' } });
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
      expect(JSON.stringify(reply.body.message)).toContain('email must not contain invisible formatting characters');
    }
    for (const nickname of ['\u202enimda', 'ad\u2066min\u2069', 'x\u200fy']) {
      const reply = await call(app, 'POST', '/auth/register', {
        body: { email: uniqueEmail(), password: 'password-123', nickname },
      });
      expect(reply.status).toBe(400);
      expect(JSON.stringify(reply.body.message)).toContain('nickname must not contain bidirectional formatting characters');
    }
    // A nickname of invisible characters only shows as nothing.
    for (const nickname of ['\u200b', '\u200b\u200d', '\u2800', '\u3164']) {
      const reply = await call(app, 'POST', '/auth/register', {
        body: { email: uniqueEmail(), password: 'password-123', nickname },
      });
      expect(reply.status, JSON.stringify(nickname)).toBe(400);
      expect(JSON.stringify(reply.body.message)).toContain('nickname must not be blank');
    }
    expect(await userCount()).toBe(before);
    // A zero-width joiner (an emoji family, several scripts) is still a nickname.
    const family = await call(app, 'POST', '/auth/register', {
      body: { email: uniqueEmail(), password: 'password-123', nickname: '\u{1F468}\u200d\u{1F469}\u200d\u{1F467}' },
    });
    expect(family.status).toBe(201);
  });

  it('refuses a look-alike spelling of a taken email (combining accent, punycode domain) with 409, and logs in with either', async () => {
    const first = await register(app, { email: 'jose@ex\u00e4mple.com', password: 'first-password' });
    expect(first.status).toBe(201);
    for (const email of ['jose@exa\u0308mple.com', 'jose@xn--exmple-cua.com']) {
      const again = await register(app, { email });
      expect(again.status, email).toBe(409);
      expect(again.body).toMatchObject({ code: 'EMAIL_TAKEN' });
    }
    expect((await login(app, 'JOSE@XN--EXMPLE-CUA.COM', 'first-password')).status).toBe(200);
    expect((await login(app, 'jose@exa\u0308mple.com', 'first-password')).status).toBe(200);
  });

  it('refuses letters that pass for others (400): non-ASCII before the @, a domain label mixing scripts; older accounts still log in', async () => {
    const taken = await register(app, { email: 'lookalike-admin@example.com', password: 'first-password' });
    expect(taken.status).toBe(201);
    const before = await userCount();
    for (const email of [
      '\uff4cookalike-admin@example.com', // fullwidth l
      'lookalike-\u0430dmin@example.com', // Cyrillic a
      'lookalike-adm\u0131n@example.com', // dotless i
      'lookalike-ADM\u0130N@example.com', // capital I with a dot
      'jos\u00e9@example.com', // any non-ASCII letter before the @
      'lookalike-admin@ex\u0430mple.com', // Cyrillic a among Latin letters in the domain
      'lookalike-admin@xn--exmple-4nf.com', // the same domain in punycode
      'lookalike-admin@\u03bfrg.example.com', // Greek omicron
      'lookalike-admin@example.\u0441\u043e\u043c', // a Cyrillic "com" after Latin labels
      'lookalike-admin@gma\u0131l.com', // dotless i in the domain
      'lookalike-admin@ex\u0251mple.com', // Latin alpha
      'lookalike-admin@g\u2c9f\u2c9fgle.com', // Coptic o
      '"lookalike-admin@example.com"@example.org', // a quoted part before the @
      'lookalike-admin@example.c\u0b66m', // an Odia zero
      'lookalike-admin@exa\u0332mple.com', // a combining low line
      'lookalike-admin@example.com\u2800', // a braille blank, which shows as nothing
      'lookalike-admin@\u212example.com', // an estimated sign for an e
      'lookalike-admin@g\u25e6\u25e6gle.com', // white bullets for o
      'lookalike-admin@ex\u237ample.com', // an APL alpha
      'lookalike-admin@examp\u2223e.com', // a divides sign for an l
      'lookalike-admin@examp\u2502e.com', // a box-drawing line for an l
      'lookalike-admin@micr\u2b58soft.com', // a heavy circle for an o
      'lookalike-admin@example.com\u0378', // an unassigned code point (IDNA refuses the domain)
    ]) {
      const reply = await call(app, 'POST', '/auth/register', { body: { email, password: 'password-123' } });
      expect(reply.status, email).toBe(400);
      expect(reply.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
      expect(JSON.stringify(reply.body.message), email).toMatch(
        /must be ASCII|mixes letters of two scripts|not an ASCII letter|combining mark or a non-ASCII digit|not a letter, a digit or a hyphen|not a valid domain name/,
      );
    }
    expect(await userCount()).toBe(before);
    // A domain wholly in one script, a name in one script under an ASCII top-level domain, accented Latin letters: fine.
    for (const domain of [
      '\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444',
      '\u043f\u0440\u0438\u043c\u0435\u0440.com',
      'ex\u00e4mple.com',
    ]) {
      expect((await register(app, { email: uniqueEmail().replace('example.com', domain) })).status, domain).toBe(201);
    }
    // An account made before this rule (stored so directly here) still logs in.
    const legacy = await register(app, { email: 'legacy-jose@example.com', password: 'legacy-password' });
    expect(legacy.status).toBe(201);
    await db
      .collection('users')
      .updateOne({ email: 'legacy-jose@example.com' }, { $set: { email: 'legacy-jos\u00e9@example.com' } });
    expect((await login(app, 'legacy-jos\u00e9@example.com', 'legacy-password')).status).toBe(200);
  });

  it('refuses the taken email spelt with an ideographic full stop at its end (IDNA maps it to a root dot) with 409, as it was stored "admin@example.com." beside the real account', async () => {
    const first = await register(app, { email: 'root-dot@example.com', password: 'first-password' });
    expect(first.status).toBe(201);
    for (const email of ['root-dot@example.com\u3002', 'root-dot@example.com\uff61', 'root-dot@example.com\u3002\u3002']) {
      const again = await register(app, { email });
      expect(again.status, email).toBe(409);
      expect(again.body).toMatchObject({ code: 'EMAIL_TAKEN' });
    }
    expect(await userCount({ email: /^root-dot@/ })).toBe(1);
  });

  it('still finds an account stored before emails were normalised as now, by the spelling it was stored under', async () => {
    // Stored as registrations stored it before (trimmed and lower-cased only): no migration rewrote it.
    const created = await register(app, { email: 'legacy@xn--exmple-cua.com', password: 'legacy-password' });
    expect(created.status).toBe(201);
    await db
      .collection('users')
      .updateOne({ email: 'legacy@ex\u00e4mple.com' }, { $set: { email: 'legacy@xn--exmple-cua.com' } });
    expect((await login(app, ' LEGACY@xn--exmple-cua.com', 'legacy-password')).status).toBe(200);
    const again = await register(app, { email: 'Legacy@XN--EXMPLE-CUA.com' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'EMAIL_TAKEN' });
    expect(await db.collection('users').countDocuments({ email: /^legacy@/ })).toBe(1);
  });

  it('takes a password typed in another Unicode form (composed or not) as the same password; an older hash still matches as typed then', async () => {
    // "é" as one code point or as "e" and a combining accent; Hangul as syllables or as jamo (as macOS may send it).
    const composed = 'caf\u00e9 \uac8c\uc784 pass';
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    const user = await register(app, { email: uniqueEmail('nfd'), password: decomposed });
    expect(user.status).toBe(201);
    expect((await login(app, user.email, composed)).status).toBe(200);
    expect((await login(app, user.email, decomposed)).status).toBe(200);
    expect((await login(app, user.email, 'cafe \uac8c\uc784 pass')).status).toBe(401);

    // A hash made before passwords were normalized: of the bytes as typed then (decomposed).
    const legacy = await register(app, { email: uniqueEmail('nfd-legacy') });
    const bcrypt = (await import('bcrypt')).default;
    await db.collection('users').updateOne({ email: legacy.email }, { $set: { passwordHash: await bcrypt.hash(decomposed, 4) } });
    expect((await login(app, legacy.email, decomposed)).status).toBe(200);
  });

  it('counts a password as hashed against the 72-byte limit: one that normalization lengthens past it is refused', async () => {
    // U+0958 (DEVANAGARI LETTER QA) is 3 bytes, and 6 in NFC (it decomposes: a composition exclusion).
    const qa = '\u0958';
    expect(Buffer.byteLength(qa.normalize('NFC'))).toBe(6);
    const password = `pw-${qa.repeat(12)}x`;
    expect(Buffer.byteLength(password)).toBeLessThanOrEqual(72);
    const reply = await register(app, { email: uniqueEmail('nfc-long'), password });
    expect(reply.status).toBe(400);
    expect(JSON.stringify(reply.body.message)).toContain('at most 72 bytes');
  });

  it('still lets in an account hashed before normalization whose password NFC lengthens past 72 bytes', async () => {
    // 40 bytes as typed (and so accepted at registration then), 76 in NFC: U+0958 is a composition exclusion.
    const typed = `pw-${'\u0958'.repeat(12)}x`;
    expect(Buffer.byteLength(typed)).toBe(40);
    expect(Buffer.byteLength(typed.normalize('NFC'))).toBe(76);
    const legacy = await register(app, { email: uniqueEmail('nfc-longer-legacy') });
    const bcrypt = (await import('bcrypt')).default;
    await db.collection('users').updateOne({ email: legacy.email }, { $set: { passwordHash: await bcrypt.hash(typed, 4) } });
    expect((await login(app, legacy.email, typed)).status).toBe(200);
    // What bcrypt would read of the NFC form (its first 72 bytes) is still not the password.
    const cut = Buffer.from(typed.normalize('NFC')).subarray(0, 72).toString('utf8');
    expect((await login(app, legacy.email, cut)).status).toBe(401);
  });

  it('counts the 8 characters as hashed: a 4-syllable Hangul password sent as jamo (9 code points) is refused as its composed form is', async () => {
    const composed = '\uac8c\uc784\ud558\uc790';
    const jamo = composed.normalize('NFD');
    expect(jamo.length).toBeGreaterThanOrEqual(8);
    for (const password of [composed, jamo]) {
      const reply = await register(app, { email: uniqueEmail('nfc-short'), password });
      expect(reply.status).toBe(400);
      expect(JSON.stringify(reply.body.message)).toContain('longer than or equal to 8 characters');
    }
  });

  it('lets exactly one of 20 parallel registrations of one email succeed', async () => {
    const email = uniqueEmail('race');
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => register(app, { email, password: `password-${i}` })));
    const statuses = replies.map((reply) => reply.status).sort();
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 409)).toHaveLength(19);
    expect(replies.filter((reply) => reply.status === 409).every((reply) => reply.body.code === 'EMAIL_TAKEN')).toBe(true);
    expect(await userCount({ email })).toBe(1);
  });

  it('gives every user a different referral code', async () => {
    const replies = await Promise.all(Array.from({ length: 10 }, () => register(app)));
    const codes = new Set(replies.map((reply) => reply.body.referralCode));
    expect(codes.size).toBe(10);
  });

  it("accepts another user's referral code (any case) and records who referred", async () => {
    const referrer = await register(app);
    const code = referrer.body.referralCode as string;
    const friend = await register(app, { referralCode: ` ${code.toLowerCase()} ` });
    expect(friend.status).toBe(201);
    const stored = await db.collection('users').findOne({ email: friend.email });
    expect(stored?.referredBy).toBe(referrer.body.id);
  });

  it('refuses an unknown referral code with 400 INVALID_REFERRAL_CODE and records nothing', async () => {
    const email = uniqueEmail('badref');
    const reply = await register(app, { email, referralCode: 'NOSUCHCODE' });
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('INVALID_REFERRAL_CODE');
    expect(await userCount({ email })).toBe(0);
  });

  describe('bad input: 400 with a code, nothing written', () => {
    const cases: Array<[string, unknown, string]> = [
      ['roles in the body', { email: 'x1@example.com', password: 'password-123', roles: ['ADMIN'] }, 'VALIDATION_FAILED'],
      ['an unknown field', { email: 'x2@example.com', password: 'password-123', isAdmin: true }, 'VALIDATION_FAILED'],
      ['an operator for email', { email: { $gt: '' }, password: 'password-123' }, 'VALIDATION_FAILED'],
      [
        'an operator for the referral code',
        { email: 'x3@example.com', password: 'password-123', referralCode: { $ne: null } },
        'VALIDATION_FAILED',
      ],
      ['a short password', { email: 'x4@example.com', password: 'short' }, 'VALIDATION_FAILED'],
      ['a password over 72 bytes', { email: 'x5@example.com', password: 'é'.repeat(37) }, 'VALIDATION_FAILED'],
      [
        'a password with NUL (bcrypt would stop there)',
        { email: 'x9@example.com', password: 'pass\u0000pass\u0000pass' },
        'VALIDATION_FAILED',
      ],
      [
        'a password with another control character',
        { email: 'x10@example.com', password: 'password\u001b[0m' },
        'VALIDATION_FAILED',
      ],
      ['a password of spaces only', { email: 'x13@example.com', password: ' '.repeat(8) }, 'VALIDATION_FAILED'],
      [
        'a password of invisible characters only',
        { email: 'x14@example.com', password: '\u200b'.repeat(8) },
        'VALIDATION_FAILED',
      ],
      ['one of the most common passwords, in any case', { email: 'x15@example.com', password: 'PassWord1' }, 'VALIDATION_FAILED'],
      ['one character repeated', { email: 'x16@example.com', password: 'aaaaaaaaaa' }, 'VALIDATION_FAILED'],
      ['spaces and one letter', { email: 'x17@example.com', password: '       a' }, 'VALIDATION_FAILED'],
      ['a common password twice', { email: 'x18@example.com', password: 'passwordpassword' }, 'VALIDATION_FAILED'],
      ['a short part repeated', { email: 'x19@example.com', password: 'ab1ab1ab1ab1' }, 'VALIDATION_FAILED'],
      ["the account's email", { email: 'Long-Name@example.com', password: 'long-name@example.com' }, 'VALIDATION_FAILED'],
      ['the part before the @', { email: 'long-name-2@example.com', password: 'Long-Name-2' }, 'VALIDATION_FAILED'],
      ['the development admin password', { email: 'x20@example.com', password: 'change-me-admin-password' }, 'VALIDATION_FAILED'],
      ['a malformed email', { email: 'not-an-email', password: 'password-123' }, 'VALIDATION_FAILED'],
      ['a missing password', { email: 'x6@example.com' }, 'VALIDATION_FAILED'],
      ['a field named toString', { email: 'x11@example.com', password: 'password-123', toString: 1 }, 'VALIDATION_FAILED'],
      ['a field named constructor', { email: 'x12@example.com', password: 'password-123', constructor: 1 }, 'VALIDATION_FAILED'],
      ['an array body', [{ email: 'x7@example.com', password: 'password-123' }], 'VALIDATION_FAILED'],
      ['malformed JSON', '{"email": "x8@example.com", "password": ', 'INVALID_JSON'],
    ];
    it.each(cases)('%s', async (_name, body, code) => {
      const before = await userCount();
      const reply = await call(app, 'POST', '/auth/register', { body });
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ statusCode: 400, code });
      expect(await userCount()).toBe(before);
    });

    it('a body over 1 MB is 413 PAYLOAD_TOO_LARGE', async () => {
      const before = await userCount();
      const reply = await call(app, 'POST', '/auth/register', {
        body: { email: uniqueEmail(), password: 'password-123', nickname: 'x'.repeat(1024 * 1024 + 10) },
      });
      expect(reply.status).toBe(413);
      expect(reply.body.code).toBe('PAYLOAD_TOO_LARGE');
      expect(await userCount()).toBe(before);
    });
  });
});

describe('GET /users/me', () => {
  it('returns the caller', async () => {
    const user = await signedInUser(app);
    const reply = await call(app, 'GET', '/users/me', { token: user.accessToken });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ id: user.id, email: user.email, roles: ['USER'] });
    expect(reply.body).not.toHaveProperty('passwordHash');
    expect(reply.body).not.toHaveProperty('_id');
  });

  it('needs a token', async () => {
    const reply = await call(app, 'GET', '/users/me');
    expect(reply.status).toBe(401);
    expect(reply.body.code).toBe('UNAUTHORIZED');
  });
});

describe('GET /users (ADMIN)', () => {
  it('is 403 for a USER', async () => {
    const user = await signedInUser(app);
    const reply = await call(app, 'GET', '/users', { token: user.accessToken });
    expect(reply.status).toBe(403);
    expect(reply.body.code).toBe('FORBIDDEN');
  });

  it('lists newest first with page, limit and total', async () => {
    const created = [];
    for (let i = 0; i < 3; i += 1) created.push((await register(app)).body.id);
    const total = await userCount();
    const first = await call(app, 'GET', '/users?page=1&limit=2', { token: admin.accessToken });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ page: 1, limit: 2, total });
    const items = first.body.items as Array<Record<string, unknown>>;
    expect(items.map((item) => item.id)).toEqual([created[2], created[1]]);
    expect(items[0]).not.toHaveProperty('passwordHash');
    const second = await call(app, 'GET', '/users?page=2&limit=2', { token: admin.accessToken });
    expect((second.body.items as Array<Record<string, unknown>>)[0]?.id).toBe(created[0]);
  });

  it('filters by role', async () => {
    const reply = await call(app, 'GET', '/users?role=ADMIN', { token: admin.accessToken });
    expect(reply.status).toBe(200);
    const items = reply.body.items as Array<{ roles: string[]; email: string }>;
    expect(items.length).toBeGreaterThanOrEqual(1);
    expect(items.every((item) => item.roles.includes('ADMIN'))).toBe(true);
    expect(reply.body.total).toBe(await userCount({ roles: 'ADMIN' }));
  });

  it.each(['role=KING', 'limit=0', 'limit=101', 'page=0', 'page=abc', 'role[$ne]=USER', 'extra=1', 'toString=1', 'valueOf=1'])(
    'refuses the query %s with 400',
    async (query) => {
      const reply = await call(app, 'GET', `/users?${query}`, { token: admin.accessToken });
      expect(reply.status).toBe(400);
      expect(reply.body.code).toBe('VALIDATION_FAILED');
    },
  );
});

describe('PATCH /users/:id/roles (ADMIN)', () => {
  it('replaces the roles; the change reaches the next access token via refresh', async () => {
    const user = await signedInUser(app);
    const reply = await call(app, 'PATCH', `/users/${user.id}/roles`, {
      token: admin.accessToken,
      body: { roles: ['USER', 'OPERATOR'] },
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ id: user.id, roles: ['USER', 'OPERATOR'] });

    // The old access token still carries the old roles until it expires.
    const before = await call(app, 'GET', '/users', { token: user.accessToken });
    expect(before.status).toBe(403);

    const refreshed = await call(app, 'POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } });
    expect(refreshed.status).toBe(200);
    const claims = JSON.parse(Buffer.from((refreshed.body.accessToken as string).split('.')[1]!, 'base64url').toString());
    expect(claims.roles).toEqual(['USER', 'OPERATOR']);

    const promoted = await call(app, 'PATCH', `/users/${user.id}/roles`, {
      token: admin.accessToken,
      body: { roles: ['ADMIN'] },
    });
    expect(promoted.status).toBe(200);
    const relogin = await login(app, user.email, user.password);
    const asAdmin = await call(app, 'GET', '/users', { token: relogin.body.accessToken as string });
    expect(asAdmin.status).toBe(200);
  });

  it('is 403 for a USER, even on themselves', async () => {
    const user = await signedInUser(app);
    const reply = await call(app, 'PATCH', `/users/${user.id}/roles`, { token: user.accessToken, body: { roles: ['ADMIN'] } });
    expect(reply.status).toBe(403);
    expect((await db.collection('users').findOne({ email: user.email }))?.roles).toEqual(['USER']);
  });

  it('is 400 INVALID_ID for a malformed id and 404 USER_NOT_FOUND for an unknown one', async () => {
    const malformed = await call(app, 'PATCH', '/users/not-an-id/roles', { token: admin.accessToken, body: { roles: ['USER'] } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('INVALID_ID');
    const unknown = await call(app, 'PATCH', '/users/0123456789abcdef01234567/roles', {
      token: admin.accessToken,
      body: { roles: ['USER'] },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('USER_NOT_FOUND');
  });

  it.each([
    ['empty roles', { roles: [] }],
    ['an unknown role', { roles: ['KING'] }],
    ['duplicate roles', { roles: ['USER', 'USER'] }],
    ['not a list', { roles: 'ADMIN' }],
    ['an extra field', { roles: ['USER'], email: 'x@example.com' }],
  ])('refuses %s with 400 and changes nothing', async (_name, body) => {
    const user = await signedInUser(app);
    const reply = await call(app, 'PATCH', `/users/${user.id}/roles`, { token: admin.accessToken, body });
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('VALIDATION_FAILED');
    expect((await db.collection('users').findOne({ email: user.email }))?.roles).toEqual(['USER']);
  });
});

describe('GET /health', () => {
  it('is public and reports the database', async () => {
    const reply = await call(app, 'GET', '/health');
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
  });
});

describe('POST /users/me/password', () => {
  const change = (token: string, body: unknown, headers: Record<string, string> = {}) =>
    call(app, 'POST', '/users/me/password', { token, body, headers });

  it('changes the password given the current one and ends every session, this one included', async () => {
    const user = await signedInUser(app);
    const other = await login(app, user.email, user.password);
    const changed = await change(user.accessToken, { currentPassword: user.password, newPassword: 'a-new-password-1' });
    expect(changed.status).toBe(204);
    expect((await login(app, user.email, user.password)).status).toBe(401);
    expect((await login(app, user.email, 'a-new-password-1')).status).toBe(200);
    for (const refreshToken of [user.refreshToken, other.body.refreshToken]) {
      const refreshed = await call(app, 'POST', '/auth/refresh', { body: { refreshToken } });
      expect(refreshed.status).toBe(401);
    }
    // The token it was changed with is stale now: it cannot change the password again.
    const again = await change(user.accessToken, { currentPassword: 'a-new-password-1', newPassword: 'a-third-password' });
    expect([again.status, again.body.code]).toEqual([401, 'STALE_ACCESS_TOKEN']);
    const stored = await db.collection('users').findOne({ email: user.email });
    expect(stored?.passwordHash).toMatch(/^\$2[aby]\$04\$/);
  });

  it('refuses a wrong current password 403 (a failed login: throttled), a weak new one 400, and changes nothing', async () => {
    // The production limit of failed logins per account and address (this file's app takes 1,000); the same key
    // (another would become the database's signing key and turn the other app's tokens away).
    const strict = await startTestApp(
      testConfig(dbName, { JWT_PRIVATE_KEY: signingKey, LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS: '5' }),
    );
    try {
      const user = await signedInUser(strict);
      const address = { 'x-forwarded-for': '198.51.100.70' };
      const changeOn = (body: unknown) =>
        call(strict, 'POST', '/users/me/password', { token: user.accessToken, body, headers: address });
      for (const newPassword of ['short', '12345678', ' '.repeat(9)]) {
        const weak = await changeOn({ currentPassword: user.password, newPassword });
        expect([weak.status, weak.body.code], newPassword).toEqual([400, 'VALIDATION_FAILED']);
      }
      const common = await changeOn({ currentPassword: user.password, newPassword: 'qwerty123' });
      expect(common.body.message).toEqual(['newPassword is one of the most common passwords: choose another']);
      const same = await changeOn({ currentPassword: user.password, newPassword: user.password });
      expect([same.status, same.body.message]).toEqual([400, ['newPassword must differ from the current password']]);
      const ownEmail = await changeOn({ currentPassword: user.password, newPassword: user.email.toUpperCase() });
      expect([ownEmail.status, ownEmail.body.message]).toEqual([
        400,
        ["newPassword must not be the account's email or the part before its @"],
      ]);
      expect((await changeOn({ newPassword: 'a-new-password-1' })).status).toBe(400);
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 6; attempt += 1) {
        const wrong = await changeOn({ currentPassword: 'not-my-password', newPassword: 'a-new-password-1' });
        statuses.push(wrong.status);
        if (wrong.status === 403) expect(wrong.body.code).toBe('WRONG_PASSWORD');
        else expect(Number(wrong.headers['retry-after'])).toBeGreaterThan(0);
      }
      // Five wrong guesses from one address, then 429 there, the right password too; a login from there as well.
      expect(statuses).toEqual([403, 403, 403, 403, 403, 429]);
      expect((await changeOn({ currentPassword: user.password, newPassword: 'x-new-password' })).status).toBe(429);
      expect((await loginFrom(strict, '198.51.100.70', user.email, user.password)).status).toBe(429);
      // Nothing changed: the old password still signs in from elsewhere, the session still refreshes.
      expect((await login(strict, user.email, user.password)).status).toBe(200);
      expect((await call(strict, 'POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } })).status).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it('of two changes at once with the same old password (the owner and a thief), one stands; the other is refused', async () => {
    const owner = await signedInUser(app);
    const thief = await login(app, owner.email, owner.password);
    const [mine, theirs] = await Promise.all([
      change(owner.accessToken, { currentPassword: owner.password, newPassword: 'owners-new-password' }),
      change(thief.body.accessToken as string, { currentPassword: owner.password, newPassword: 'thiefs-new-password' }),
    ]);
    const statuses = [mine.status, theirs.status].sort();
    // The later one finds the password changed (403) or its token stale (401), whichever check it meets first.
    expect(statuses[0]).toBe(204);
    expect([401, 403]).toContain(statuses[1]);
    const signIns = await Promise.all(
      ['owners-new-password', 'thiefs-new-password', owner.password].map(
        async (password) => (await login(app, owner.email, password)).status,
      ),
    );
    expect(signIns).toEqual(mine.status === 204 ? [200, 401, 401] : [401, 200, 401]);
  });

  it('needs a token', async () => {
    const reply = await call(app, 'POST', '/users/me/password', {
      body: { currentPassword: 'x', newPassword: 'a-new-password-1' },
    });
    expect(reply.status).toBe(401);
    expect(reply.body.code).toBe('UNAUTHORIZED');
  });
});
