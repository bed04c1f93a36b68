import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type mongoose from 'mongoose';
import { ERROR_BODY_SCHEMA } from '@reward/server-kit/openapi';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { testDatabaseName } from '../../../test-support/database.js';
import { rsaPrivateKeyPem } from '../../../test-support/tokens.js';
import {
  type Reply,
  call,
  loginFrom as loginFromAddress,
  openTestDatabase,
  registeredAccount,
  startTestApp,
  testConfig,
  uniqueEmail,
} from '../testing/auth-test-app.js';
import { LoginThrottleService } from './login-throttle.service.js';
import { ThrottleAttemptRepository } from './throttle-attempt.repository.js';
import { createAuthServer } from '../server.js';

const dbName = testDatabaseName('throttle');
let app: NestFastifyApplication;
let db: mongoose.Connection;

// Small limits so each rule shows within a few requests; the window is long enough never to pass mid-test.
beforeAll(async () => {
  app = await startTestApp(
    testConfig(dbName, {
      JWT_PRIVATE_KEY: rsaPrivateKeyPem(),
      LOGIN_THROTTLE_WINDOW_SECONDS: '600',
      LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS: '3',
      LOGIN_FAILURES_PER_ACCOUNT: '6',
      LOGIN_FAILURES_PER_ADDRESS: '10',
      REGISTRATIONS_PER_ADDRESS: '1000',
    }),
  );
  db = await openTestDatabase(dbName);
});

afterAll(async () => {
  await app?.close();
  await db?.dropDatabase();
  await db?.close();
});

// The gateway (127.0.0.1, trusted) forwards the client address in X-Forwarded-For.
const loginFrom = (clientIp: string, email: string, password: string, remoteAddress?: string): Promise<Reply> =>
  loginFromAddress(app, clientIp, email, password, remoteAddress);

const account = (): Promise<{ email: string; password: string }> => registeredAccount(app, 'throttle');

function expectThrottled(reply: Reply): void {
  expect(reply.status).toBe(429);
  expect(reply.body).toMatchObject({ statusCode: 429, code: 'TOO_MANY_REQUESTS' });
  const retryAfter = Number(reply.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(600);
  // The body says it too, in a field the documented error body names (so the SDK's ErrorBody type has it).
  expect(reply.body.retryAfterSeconds).toBe(retryAfter);
  expect(Object.keys(ERROR_BODY_SCHEMA.properties)).toEqual(expect.arrayContaining(Object.keys(reply.body)));
}

describe('login throttling (failures only, per account and address, per account, per address)', () => {
  it('30 players logging in correctly from one address all succeed (successes never count)', async () => {
    const players = [];
    for (let i = 0; i < 30; i += 1) players.push(await account());
    const replies = await Promise.all(players.map((player) => loginFrom('198.51.100.30', player.email, player.password)));
    expect(replies.map((reply) => reply.status)).toEqual(Array(30).fill(200));
    // And again: 60 successes from the address, far over its failure ceiling of 10.
    const again = await Promise.all(players.map((player) => loginFrom('198.51.100.30', player.email, player.password)));
    expect(again.map((reply) => reply.status)).toEqual(Array(30).fill(200));
    await vi.waitFor(async () =>
      expect(await db.collection('throttle_attempts').countDocuments({ ip: '198.51.100.30' })).toBe(0),
    );
  });

  it('locks an account at one address after its failures; other accounts there, and the account elsewhere, still log in', async () => {
    const ip = '203.0.113.10';
    const victim = await account();
    const neighbour = await account();
    for (let i = 0; i < 3; i += 1) expect((await loginFrom(ip, victim.email, 'wrong-password')).status).toBe(401);
    // Locked at this address, even with the right password (checking it would be a fourth guess).
    expectThrottled(await loginFrom(ip, victim.email, victim.password));
    expect((await loginFrom(ip, neighbour.email, neighbour.password)).status).toBe(200);
    expect((await loginFrom('203.0.113.11', victim.email, victim.password)).status).toBe(200);
    // A refused attempt is not a failure: the lock does not grow by hammering it.
    for (let i = 0; i < 5; i += 1) expectThrottled(await loginFrom(ip, victim.email, 'wrong-password'));
    expect(await db.collection('throttle_attempts').countDocuments({ ip, account: victim.email })).toBe(3);
  });

  it('caps failures on one account from many addresses (a distributed guess)', async () => {
    const target = await account();
    for (let i = 0; i < 6; i += 1) expect((await loginFrom(`192.0.2.${i + 1}`, target.email, 'wrong-password')).status).toBe(401);
    expectThrottled(await loginFrom('192.0.2.100', target.email, 'wrong-password'));
  });

  it('caps failures from one address over many accounts; other addresses are not affected', async () => {
    const ip = '203.0.113.40';
    for (let i = 0; i < 10; i += 1) expect((await loginFrom(ip, uniqueEmail('nobody'), 'wrong-password')).status).toBe(401);
    const player = await account();
    expectThrottled(await loginFrom(ip, player.email, player.password));
    expect((await loginFrom('203.0.113.41', player.email, player.password)).status).toBe(200);
  });

  it('holds under parallel guesses: at most the limit of them test a password', async () => {
    const target = await account();
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => loginFrom('203.0.113.50', target.email, 'wrong-password')),
    );
    const statuses = replies.map((reply) => reply.status);
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(3);
    expect(statuses.filter((status) => status !== 401 && status !== 429)).toEqual([]);
  });

  it('refuses a crowd of guesses at one account from one address without asking the store for each', async () => {
    const target = await account();
    const record = vi.spyOn(app.get(ThrottleAttemptRepository), 'record');
    try {
      const replies = await Promise.all(
        Array.from({ length: 60 }, () => loginFrom('203.0.113.51', target.email, 'wrong-password')),
      );
      const statuses = replies.map((reply) => reply.status);
      expect(statuses.filter((status) => status !== 401 && status !== 429)).toEqual([]);
      for (const reply of replies.filter((reply) => reply.status === 429)) expectThrottled(reply);
      // At most the limit (3) were ever in flight, so only those were recorded: each of the others cost the
      // store a write, reads and a delete, and a few hundred at once answered nothing within the gateway's timeout.
      expect(record.mock.calls.filter(([attempt]) => attempt.ip === '203.0.113.51').length).toBeLessThanOrEqual(3);
    } finally {
      record.mockRestore();
    }
    // Their places are given back once settled: the owner elsewhere is not affected, nor is the next account here.
    expect((await loginFrom('203.0.113.52', target.email, target.password)).status).toBe(200);
    const neighbour = await account();
    expect((await loginFrom('203.0.113.51', neighbour.email, neighbour.password)).status).toBe(200);
  });

  it("asks the store about a client's attempts a few at a time, however many it sends at once", async () => {
    const repository = app.get(ThrottleAttemptRepository);
    const record = repository.record.bind(repository);
    let open = 0;
    let most = 0;
    const spy = vi.spyOn(repository, 'record').mockImplementation(async (attempt) => {
      if (attempt.ip === '203.0.113.54') most = Math.max(most, ++open);
      try {
        return await record(attempt);
      } finally {
        if (attempt.ip === '203.0.113.54') open--;
      }
    });
    try {
      const replies = await Promise.all(
        Array.from({ length: 80 }, (_, i) => loginFrom('203.0.113.54', uniqueEmail(`crowd${i}`), 'wrong-password')),
      );
      expect(replies.map((reply) => reply.status).filter((status) => ![401, 429, 503].includes(status))).toEqual([]);
      // PASSWORD_HASH_PER_CLIENT (8): all 80 wrote at once before, each with its reads and a delete to follow.
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThanOrEqual(8);
    } finally {
      spy.mockRestore();
    }
  });

  it('lets one of a crowd of correct sign-ins of one account from one address in', async () => {
    const player = await account();
    const replies = await Promise.all(Array.from({ length: 30 }, () => loginFrom('203.0.113.53', player.email, player.password)));
    const statuses = replies.map((reply) => reply.status);
    expect(statuses.filter((status) => status !== 200 && status !== 429)).toEqual([]);
    expect(statuses).toContain(200);
  });

  it('does not count bad input (no password was tested)', async () => {
    const target = await account();
    for (let i = 0; i < 5; i += 1) {
      const reply = await call(app, 'POST', '/auth/login', {
        body: { email: target.email, password: 'x', remember: true },
        headers: { 'x-forwarded-for': '203.0.113.60' },
      });
      expect(reply.status).toBe(400);
    }
    expect((await loginFrom('203.0.113.60', target.email, target.password)).status).toBe(200);
  });

  it('does not believe X-Forwarded-For from an untrusted address', async () => {
    const target = await account();
    // A client at 198.51.100.7 rotating spoofed X-Forwarded-For values is still counted as 198.51.100.7.
    const statuses = [];
    for (let i = 0; i < 4; i += 1)
      statuses.push((await loginFrom(`192.0.2.${200 + i}`, target.email, 'wrong', '198.51.100.7')).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect(await db.collection('throttle_attempts').countDocuments({ ip: '198.51.100.7' })).toBe(3);
    expect(await db.collection('throttle_attempts').countDocuments({ ip: '192.0.2.200' })).toBe(0);
  });

  it('counts an IPv6 client by its /64: a fresh address from the same network for every guess is the same client', async () => {
    const victim = await account();
    // One host's /64 (2001:db8:7:42::/64), a new address each time, written in several ways.
    const guesses = ['2001:db8:7:42::1', '2001:db8:7:42:a:b:c:d', '2001:DB8:7:42:ffff:ffff:ffff:fffe'];
    for (const ip of guesses) expect((await loginFrom(ip, victim.email, 'wrong-password')).status).toBe(401);
    expectThrottled(await loginFrom('2001:db8:7:42::1234', victim.email, 'wrong-password'));
    // Another /64 is another client; an IPv4-mapped address counts as its IPv4 address.
    expect((await loginFrom('2001:db8:7:43::1', victim.email, victim.password)).status).toBe(200);
    const mapped = await account();
    for (let i = 0; i < 3; i += 1) expect((await loginFrom('203.0.113.70', mapped.email, 'wrong-password')).status).toBe(401);
    expectThrottled(await loginFrom('::ffff:203.0.113.70', mapped.email, mapped.password));
  });

  it('deletes attempts that left the window', async () => {
    await db
      .collection('throttle_attempts')
      .insertOne({ scope: 'LOGIN', ip: '203.0.113.99', account: null, at: new Date(Date.now() - 86_400_000), settled: true });
    const deleted = await app.get(LoginThrottleService).deleteExpired();
    expect(deleted).toBeGreaterThanOrEqual(1);
    expect(await db.collection('throttle_attempts').countDocuments({ ip: '203.0.113.99' })).toBe(0);
  });
});

describe('the gateway named by its host name (AUTH_TRUSTED_PROXIES=localhost, as Compose names the service)', () => {
  let named: NestFastifyApplication;

  beforeAll(async () => {
    named = await startTestApp(
      testConfig(dbName, {
        JWT_PRIVATE_KEY: rsaPrivateKeyPem(),
        AUTH_TRUSTED_PROXIES: 'localhost',
        REGISTRATIONS_PER_ADDRESS: '1000',
      }),
    );
  });

  afterAll(async () => {
    await named?.close();
  });

  it('believes X-Forwarded-For from the addresses the name resolves to, and from nobody else', async () => {
    const target = await account();
    const attempt = (clientIp: string, remoteAddress: string) =>
      call(named, 'POST', '/auth/login', {
        body: { email: target.email, password: 'wrong' },
        headers: { 'x-forwarded-for': clientIp },
        remoteAddress,
      });
    expect((await attempt('203.0.113.90', '127.0.0.1')).status).toBe(401);
    expect((await attempt('203.0.113.91', '198.51.100.9')).status).toBe(401);
    const attempts = db.collection('throttle_attempts');
    expect(await attempts.countDocuments({ ip: '203.0.113.90' })).toBe(1);
    expect(await attempts.countDocuments({ ip: '198.51.100.9' })).toBe(1);
    expect(await attempts.countDocuments({ ip: '203.0.113.91' })).toBe(0);
  });
});

describe('a proxy in front of the auth server that it does not trust', () => {
  it('is told in one warning, naming AUTH_TRUSTED_PROXIES, at the first request that carries X-Forwarded-For from it', async () => {
    const written: string[] = [];
    // Outside production loopback is trusted (npm start's gateway); 198.51.100.7 stands for a gateway not named.
    const app = await createAuthServer(testConfig(dbName, { JWT_PRIVATE_KEY: rsaPrivateKeyPem(), LOG_LEVEL: 'warn' }), {
      logDestination: { write: (chunk) => void written.push(Buffer.from(chunk).toString('utf8')) },
    });
    const warnings = () =>
      written
        .join('')
        .split('\n')
        .filter((line) => line.includes('does not trust'))
        .map((line) => JSON.parse(line) as { level: number; peer: string; variable: string; msg: string });
    try {
      const login = (headers: Record<string, string>, remoteAddress: string) =>
        call(app, 'POST', '/auth/login', { body: { email: 'nobody@proxy.test', password: 'wrong' }, headers, remoteAddress });
      // From a trusted proxy, and without the header: nothing to tell.
      expect((await login({ 'x-forwarded-for': '203.0.113.5' }, '127.0.0.1')).status).toBe(401);
      expect((await login({}, '198.51.100.7')).status).toBe(401);
      for (let i = 0; i < 3; i += 1) expect((await login({ 'x-forwarded-for': '203.0.113.6' }, '198.51.100.7')).status).toBe(401);
    } finally {
      await app.close();
    }
    expect(warnings()).toEqual([expect.objectContaining({ level: 40, peer: '198.51.100.7', variable: 'AUTH_TRUSTED_PROXIES' })]);
    expect(warnings()[0]!.msg).toContain('name the proxy in AUTH_TRUSTED_PROXIES');
  });
});

describe('registration throttling per address', () => {
  let limited: NestFastifyApplication;
  const limitedDb = testDatabaseName('throttle_reg');

  beforeAll(async () => {
    // What is tested is the throttle, not the password gate: on a busy machine 100 registrations from one address
    // (8 at a time, PASSWORD_HASH_PER_CLIENT) outwaited the gate's 3 s queue and some were shed 503 AUTH_BUSY.
    limited = await startTestApp(
      testConfig(limitedDb, {
        REGISTRATIONS_PER_ADDRESS: '40',
        REGISTRATION_WINDOW_SECONDS: '600',
        PASSWORD_HASH_QUEUE_TIMEOUT_MS: '60000',
      }),
    );
  });

  afterAll(async () => {
    await limited?.close();
    const connection = await openTestDatabase(limitedDb);
    await connection.dropDatabase();
    await connection.close();
  });

  it('answers 100 parallel registrations from one address with 201, 409 or 429 only, and admits at most the limit', async () => {
    // 70 distinct addresses, some sent twice: a race on one email is a 409, never a 5xx.
    const emails = Array.from({ length: 100 }, (_, i) => `reg-${i % 70}@throttle.test`);
    const replies = await Promise.all(
      emails.map((email) =>
        call(limited, 'POST', '/auth/register', {
          body: { email, password: 'password-123' },
          headers: { 'x-forwarded-for': '198.51.100.80' },
        }),
      ),
    );
    const statuses = replies.map((reply) => reply.status);
    expect(statuses.filter((status) => ![201, 409, 429].includes(status))).toEqual([]);
    expect(statuses.filter((status) => status === 201 || status === 409).length).toBeLessThanOrEqual(40);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(60);
    const throttled = replies.find((reply) => reply.status === 429)!;
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // It says what is limited: the address, not the account (a drill from one machine would think otherwise).
    expect(throttled.body).toMatchObject({
      code: 'TOO_MANY_REQUESTS',
      message: expect.stringMatching(/^Too many registrations from this address; /),
    });
    // Another address registers normally.
    const other = await call(limited, 'POST', '/auth/register', {
      body: { email: 'other@throttle.test', password: 'password-123' },
      headers: { 'x-forwarded-for': '198.51.100.81' },
    });
    expect(other.status).toBe(201);
  });

  it('counts registrations from an IPv6 /64 together, whichever of its addresses each comes from', async () => {
    const statuses = [];
    for (let i = 0; i < 41; i += 1) {
      const reply = await call(limited, 'POST', '/auth/register', {
        body: { email: `v6-${i}@throttle.test`, password: 'password-123' },
        headers: { 'x-forwarded-for': `2001:db8:9:9::${(i + 1).toString(16)}` },
      });
      statuses.push(reply.status);
    }
    expect(statuses.slice(0, 40)).toEqual(Array(40).fill(201));
    expect(statuses[40]).toBe(429);
    const elsewhere = await call(limited, 'POST', '/auth/register', {
      body: { email: 'v6-elsewhere@throttle.test', password: 'password-123' },
      headers: { 'x-forwarded-for': '2001:db8:9:a::1' },
    });
    expect(elsewhere.status).toBe(201);
  });
});
