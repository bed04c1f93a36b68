import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  openTestDatabase,
  register,
  startTestApp,
  testConfig,
  testDatabaseName,
  testPrivateKeyPem,
} from '../testing/auth-test-app.js';
import { LoginThrottleService } from './login-throttle.service.js';

const dbName = testDatabaseName('throttle');
let app: NestFastifyApplication;
let db: mongoose.Connection;
let user: { email: string; password: string };

beforeAll(async () => {
  app = await startTestApp(
    testConfig(dbName, { JWT_PRIVATE_KEY: testPrivateKeyPem(), LOGIN_RATE_LIMIT: '3', LOGIN_RATE_WINDOW_SECONDS: '60' }),
  );
  db = await openTestDatabase(dbName);
  user = await register(app);
});

afterAll(async () => {
  await app?.close();
  await db?.dropDatabase();
  await db?.close();
});

// The gateway (127.0.0.1, trusted) forwards the client address in X-Forwarded-For.
const loginFrom = (clientIp: string, password = user.password, remoteAddress = '127.0.0.1') =>
  call(app, 'POST', '/auth/login', {
    body: { email: user.email, password },
    headers: { 'x-forwarded-for': clientIp },
    remoteAddress,
  });

describe('login throttling per client IP', () => {
  it('allows LOGIN_RATE_LIMIT attempts per window, then 429 TOO_MANY_REQUESTS with Retry-After', async () => {
    const ip = '203.0.113.10';
    expect((await loginFrom(ip, 'wrong-password')).status).toBe(401);
    expect((await loginFrom(ip)).status).toBe(200);
    expect((await loginFrom(ip, 'wrong-password')).status).toBe(401);
    const blocked = await loginFrom(ip);
    expect(blocked.status).toBe(429);
    expect(blocked.body).toMatchObject({ statusCode: 429, code: 'TOO_MANY_REQUESTS' });
    const retryAfter = Number(blocked.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);

    // Another client is not affected.
    expect((await loginFrom('203.0.113.11')).status).toBe(200);
  });

  it('holds under parallel attempts: at most LOGIN_RATE_LIMIT get through', async () => {
    const replies = await Promise.all(Array.from({ length: 12 }, () => loginFrom('203.0.113.20')));
    expect(replies.filter((reply) => reply.status === 200).length).toBeLessThanOrEqual(3);
    expect(replies.filter((reply) => reply.status === 429).length).toBeGreaterThanOrEqual(9);
  });

  it('does not believe X-Forwarded-For from an untrusted address', async () => {
    // A client at 198.51.100.7 rotating spoofed X-Forwarded-For values is still counted as 198.51.100.7.
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await loginFrom(`192.0.2.${i}`, user.password, '198.51.100.7')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(await db.collection('login_attempts').countDocuments({ ip: '198.51.100.7' })).toBe(4);
    expect(await db.collection('login_attempts').countDocuments({ ip: '192.0.2.0' })).toBe(0);
  });

  it('deletes attempts that left the window', async () => {
    await db.collection('login_attempts').insertOne({ ip: '203.0.113.99', at: new Date(Date.now() - 3_600_000) });
    const deleted = await app.get(LoginThrottleService).deleteExpired();
    expect(deleted).toBeGreaterThanOrEqual(1);
    expect(await db.collection('login_attempts').countDocuments({ ip: '203.0.113.99' })).toBe(0);
  });
});
