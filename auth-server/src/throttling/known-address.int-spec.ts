import { getConnectionToken } from '@nestjs/mongoose';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Connection } from 'mongoose';
import type mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testDatabaseName } from '../../../test-support/database.js';
import { rsaPrivateKeyPem } from '../../../test-support/tokens.js';
import {
  type Reply,
  TEST_ADMIN,
  call,
  loginFrom as loginFromAddress,
  openTestDatabase,
  registeredAccount,
  startTestApp,
  testConfig,
} from '../testing/auth-test-app.js';
import { LoginThrottleService } from './login-throttle.service.js';

const dbName = testDatabaseName('known_address');
let app: NestFastifyApplication;
let db: mongoose.Connection;
/** Store commands the app sends while set (the driver's command monitoring), as "command collection". */
let seen: string[] | undefined;

/**
 * The lockout an attacker could cause with the per-account ceiling alone (20 wrong passwords from 4 addresses
 * keep the owner, an ADMIN too, out for the window, and again every window) does not reach the owner at an
 * address they signed in from; everyone else is bounded as before.
 */
beforeAll(async () => {
  app = await startTestApp(
    testConfig(dbName, {
      JWT_PRIVATE_KEY: rsaPrivateKeyPem(),
      MONGODB_URI: `${inject('mongoUri')}?monitorCommands=true`,
      // The defaults of production, over a window that never passes mid-test.
      LOGIN_THROTTLE_WINDOW_SECONDS: '600',
      LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS: '5',
      LOGIN_FAILURES_PER_ACCOUNT: '20',
      LOGIN_FAILURES_PER_ADDRESS: '200',
      LOGIN_KNOWN_ADDRESS_DAYS: '60',
      LOGIN_KNOWN_ADDRESSES_PER_ACCOUNT: '3',
      REGISTRATIONS_PER_ADDRESS: '1000',
    }),
  );
  app
    .get<Connection>(getConnectionToken())
    .getClient()
    .on('commandStarted', (event) => {
      const collection = (event.command as Record<string, unknown>)[event.commandName];
      seen?.push(`${event.commandName} ${typeof collection === 'string' ? collection : ''}`.trim());
    });
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

const account = (): Promise<{ email: string; password: string }> => registeredAccount(app, 'known');

/** 20 wrong passwords, 5 from each of 4 addresses (none over the per-account-and-address limit): all tested. */
async function distributedGuess(email: string, network: string): Promise<void> {
  for (let address = 1; address <= 4; address += 1) {
    for (let i = 0; i < 5; i += 1) expect((await loginFrom(`${network}.${address}`, email, 'wrong-password')).status).toBe(401);
  }
}

function expectThrottled(reply: Reply): void {
  expect(reply.status).toBe(429);
  expect(reply.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests', code: 'TOO_MANY_REQUESTS' });
  const retryAfter = Number(reply.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(600);
  expect(reply.body.retryAfterSeconds).toBe(retryAfter);
}

const knownAddresses = () => db.collection('known_login_addresses');

async function counted(work: () => Promise<Reply>): Promise<{ reply: Reply; commands: string[] }> {
  seen = [];
  const reply = await work();
  const commands = seen;
  seen = undefined;
  return { reply, commands };
}

describe('the owner at a known address (signed in there before) is not locked out by guesses from elsewhere', () => {
  it('the ADMIN still signs in at their address after 20 failures from 4 others; a new address is refused', async () => {
    const home = '198.51.100.10';
    expect((await loginFrom(home, TEST_ADMIN.email, TEST_ADMIN.password)).status).toBe(200);
    await distributedGuess(TEST_ADMIN.email, '192.0.2');

    // The per-account ceiling is full: an unknown address is refused before its password is checked...
    expectThrottled(await loginFrom('203.0.113.77', TEST_ADMIN.email, TEST_ADMIN.password));
    expectThrottled(await loginFrom('192.0.2.5', TEST_ADMIN.email, 'wrong-password'));
    // ...and the owner at home is not.
    const owner = await loginFrom(home, TEST_ADMIN.email, TEST_ADMIN.password);
    expect(owner.status).toBe(200);
    expect(owner.body.accessToken).toEqual(expect.any(String));
    // Again, and a typo there is a plain 401 (a tested password), not a lock.
    expect((await loginFrom(home, TEST_ADMIN.email, 'typo-password')).status).toBe(401);
    expect((await loginFrom(home, TEST_ADMIN.email, TEST_ADMIN.password)).status).toBe(200);
  });

  it('an unknown address is still refused with 429 and Retry-After, right password or not, and nothing is tested', async () => {
    const owner = await account();
    expect((await loginFrom('198.51.100.20', owner.email, owner.password)).status).toBe(200);
    await distributedGuess(owner.email, '192.0.2');
    for (let i = 0; i < 3; i += 1) expectThrottled(await loginFrom(`203.0.113.${20 + i}`, owner.email, 'guess'));
    expectThrottled(await loginFrom('203.0.113.30', owner.email, owner.password));
    // Refused attempts are not recorded: the ceiling holds 20, not more.
    expect(await db.collection('throttle_attempts').countDocuments({ account: owner.email })).toBe(20);
  });

  it('the per-account-and-address limit still holds at a known address', async () => {
    const owner = await account();
    const shared = '198.51.100.30';
    expect((await loginFrom(shared, owner.email, owner.password)).status).toBe(200);
    await distributedGuess(owner.email, '192.0.2');
    // A guesser behind the owner's own address (a shared flat, a café) gets its 5 tries there and no more.
    for (let i = 0; i < 5; i += 1) expect((await loginFrom(shared, owner.email, 'wrong-password')).status).toBe(401);
    expectThrottled(await loginFrom(shared, owner.email, 'wrong-password'));
    // Now the owner there waits too, as anyone did before at an address that spent its tries.
    expectThrottled(await loginFrom(shared, owner.email, owner.password));
  });

  it('the owner at a known address is not locked out by the ceiling of the address, filled with guesses at other emails', async () => {
    const owner = await account();
    const newcomer = await account();
    const shared = '198.51.100.35';
    expect((await loginFrom(shared, owner.email, owner.password)).status).toBe(200);
    // 200 wrong passwords from the owner's address (a café, an office NAT), at made-up emails, 20 at a time.
    for (let batch = 0; batch < 10; batch += 1) {
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) => loginFrom(shared, `nobody-${batch}-${i}@example.com`, 'wrong-password')),
      );
      expect(replies.map((reply) => reply.status)).toEqual(Array(20).fill(401));
    }
    // The address's ceiling is full: whoever never signed in there is refused, right password or not...
    expectThrottled(await loginFrom(shared, 'nobody-else@example.com', 'wrong-password'));
    expectThrottled(await loginFrom(shared, newcomer.email, newcomer.password));
    // ...and the owner, who did, is not; their own guesser there still has 5 tries and no more.
    expect((await loginFrom(shared, owner.email, owner.password)).status).toBe(200);
    for (let i = 0; i < 5; i += 1) expect((await loginFrom(shared, owner.email, 'wrong-password')).status).toBe(401);
    expectThrottled(await loginFrom(shared, owner.email, 'wrong-password'));
  });

  it('a failed, refused or malformed attempt never makes an address known', async () => {
    const owner = await account();
    const attacker = '203.0.113.40';
    const malformed = await call(app, 'POST', '/auth/login', {
      body: { email: owner.email, password: 'x', extra: true },
      headers: { 'x-forwarded-for': attacker },
    });
    expect(malformed.status).toBe(400);
    for (let i = 0; i < 5; i += 1) expect((await loginFrom(attacker, owner.email, 'wrong-password')).status).toBe(401);
    expectThrottled(await loginFrom(attacker, owner.email, 'wrong-password'));
    expect(await knownAddresses().countDocuments({ account: owner.email })).toBe(0);

    // Filling the per-account ceiling from elsewhere: the attacker's address is as unknown as any other.
    const second = await account();
    for (let i = 0; i < 5; i += 1) expect((await loginFrom(attacker, second.email, 'wrong-password')).status).toBe(401);
    for (let address = 1; address <= 3; address += 1) {
      for (let i = 0; i < 5; i += 1) expect((await loginFrom(`192.0.2.${address}`, second.email, 'wrong')).status).toBe(401);
    }
    expectThrottled(await loginFrom('192.0.2.9', second.email, 'wrong'));
    expect(await knownAddresses().countDocuments({ account: second.email })).toBe(0);
  });

  it('a forged X-Forwarded-For naming the known address is not believed from an untrusted peer', async () => {
    const owner = await account();
    const home = '198.51.100.50';
    expect((await loginFrom(home, owner.email, owner.password)).status).toBe(200);
    await distributedGuess(owner.email, '192.0.2');
    // A client at 203.0.113.55 claiming to be the owner's address is counted, and refused, as 203.0.113.55.
    expectThrottled(await loginFrom(home, owner.email, 'wrong-password', '203.0.113.55'));
    expectThrottled(await loginFrom(home, owner.email, owner.password, '203.0.113.55'));
    expect(await knownAddresses().countDocuments({ account: owner.email, ip: '203.0.113.55' })).toBe(0);
    expect((await loginFrom(home, owner.email, owner.password)).status).toBe(200);
  });
});

describe('known addresses stay bounded', () => {
  it('keeps only the newest LOGIN_KNOWN_ADDRESSES_PER_ACCOUNT (3) of an account; an evicted one is unknown again', async () => {
    const owner = await account();
    for (let address = 1; address <= 5; address += 1) {
      expect((await loginFrom(`198.51.100.${60 + address}`, owner.email, owner.password)).status).toBe(200);
    }
    const kept = await knownAddresses().find({ account: owner.email }).toArray();
    expect(kept).toHaveLength(3);
    expect(kept.map((document) => document.ip as string)).toContain('198.51.100.65');
    expect(kept.map((document) => document.ip as string)).not.toContain('198.51.100.61');
    await distributedGuess(owner.email, '192.0.2');
    expectThrottled(await loginFrom('198.51.100.61', owner.email, owner.password));
    expect((await loginFrom('198.51.100.65', owner.email, owner.password)).status).toBe(200);
  });

  it('one document per account and address, however often and however concurrently the owner signs in there', async () => {
    const owner = await account();
    // Four at once: in flight, each counts against the per-account-and-address limit (5) until it succeeds.
    const replies = await Promise.all(Array.from({ length: 4 }, () => loginFrom('198.51.100.70', owner.email, owner.password)));
    expect(replies.map((reply) => reply.status)).toEqual(Array(4).fill(200));
    expect((await loginFrom('198.51.100.70', owner.email, owner.password)).status).toBe(200);
    expect(await knownAddresses().countDocuments({ account: owner.email })).toBe(1);
  });

  it('an address not signed in from for LOGIN_KNOWN_ADDRESS_DAYS is not known, and the sweep deletes it', async () => {
    const owner = await account();
    const long = new Date(Date.now() - 61 * 86_400_000);
    await knownAddresses().insertOne({ account: owner.email, ip: '198.51.100.80', lastSignInAt: long });
    await distributedGuess(owner.email, '192.0.2');
    expectThrottled(await loginFrom('198.51.100.80', owner.email, owner.password));
    expect(await app.get(LoginThrottleService).deleteExpired()).toBeGreaterThanOrEqual(1);
    expect(await knownAddresses().countDocuments({ account: owner.email })).toBe(0);
  });
});

describe('store commands per successful sign-in', () => {
  it('9 at a known address (8 before known addresses existed: +1 upsert); the first time at an address +1 or +2 (the trim)', async () => {
    const owner = await account();
    const first = await counted(() => loginFrom('198.51.100.90', owner.email, owner.password));
    expect(first.reply.status).toBe(200);
    const throttle = ['insert throttle_attempts', 'find throttle_attempts', 'find throttle_attempts', 'find throttle_attempts'];
    const login = ['find users', 'insert refresh_tokens', 'insert outbox'];
    // The attempt's delete and the address's upsert run at once; their order on the wire is not fixed.
    const settle = ['delete throttle_attempts', 'update known_login_addresses'];
    expect(first.commands.slice(0, 7)).toEqual([...throttle, ...login]);
    expect([...first.commands.slice(7)].sort()).toEqual([...settle, 'find known_login_addresses'].sort());

    const again = await counted(() => loginFrom('198.51.100.90', owner.email, owner.password));
    expect(again.reply.status).toBe(200);
    expect(again.commands.slice(0, 7)).toEqual([...throttle, ...login]);
    expect([...again.commands.slice(7)].sort()).toEqual([...settle].sort());

    // With the per-account ceiling full, the owner at home costs one read more: the known-address probe.
    await distributedGuess(owner.email, '192.0.2');
    const underAttack = await counted(() => loginFrom('198.51.100.90', owner.email, owner.password));
    expect(underAttack.reply.status).toBe(200);
    expect(underAttack.commands).toHaveLength(10);
    expect(underAttack.commands.filter((command) => command === 'find known_login_addresses')).toHaveLength(1);
  });
});
