import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type mongoose from 'mongoose';
import { START_BY_HEADER } from '@reward/server-kit/start-by';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseName } from '../../test-support/database.js';
import { openTestDatabase, register, startTestApp, testConfig } from './testing/auth-test-app.js';

const dbName = testDatabaseName('http_hardening');
let app: NestFastifyApplication;
let db: mongoose.Connection;
let user: { email: string; password: string };

beforeAll(async () => {
  app = await startTestApp(testConfig(dbName));
  db = await openTestDatabase(dbName);
  user = await register(app);
});

afterAll(async () => {
  await app?.close();
  await db?.dropDatabase();
  await db?.close();
});

const post = (url: string, payload: string, contentType: string) =>
  app.inject({ method: 'POST', url, payload, headers: { 'content-type': contentType } });

describe('late starts', () => {
  it('answers a registration that reaches the server past its start-by time 503 with Retry-After, and registers nothing', async () => {
    // The gateway may have answered 504 already: an account made now would be one its client never heard of.
    const email = 'late-start@example.com';
    const payload = JSON.stringify({ email, password: 'password-123', nickname: 'late' });
    const send = (startBy: number) =>
      app.inject({
        method: 'POST',
        url: '/auth/register',
        payload,
        headers: { 'content-type': 'application/json', [START_BY_HEADER]: String(startBy) },
      });
    const refused = await send(Date.now() - 1);
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json()).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 1 });
    expect(await db.collection('users').countDocuments({ email })).toBe(0);
    expect((await send(Date.now() + 60_000)).statusCode).toBe(201);
    expect(await db.collection('users').countDocuments({ email })).toBe(1);
  });
});

describe('bodies', () => {
  it('refuses JSON nested deeper than 32 levels with 400 JSON_TOO_DEEP, and writes nothing', async () => {
    const email = 'deep@example.com';
    const deep = `{"email":"${email}","password":"password-123","nickname":${'['.repeat(1500)}${']'.repeat(1500)}}`;
    const reply = await post('/auth/register', deep, 'application/json');
    expect(reply.statusCode).toBe(400);
    expect(reply.json()).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'JSON_TOO_DEEP' });
    expect(await db.collection('users').countDocuments({ email })).toBe(0);
  });

  it('refuses a body with more than 100,000 values with 400 JSON_TOO_MANY_VALUES', async () => {
    const wide = `{"email":"wide@example.com","password":"password-123","nickname":[${'0,'.repeat(100_000)}0]}`;
    const reply = await post('/auth/register', wide, 'application/json');
    expect(reply.statusCode).toBe(400);
    expect(reply.json()).toMatchObject({ statusCode: 400, code: 'JSON_TOO_MANY_VALUES' });
    expect(await db.collection('users').countDocuments({ email: 'wide@example.com' })).toBe(0);
  });

  it('refuses an object of more than 256 fields with 400 JSON_TOO_MANY_VALUES, before the transform sees it', async () => {
    // class-transformer's cost grows with the square of an object's fields: 30,000 of them cost 0.6 s of CPU.
    const fields = Array.from({ length: 30_000 }, (_, index) => `"f${index}":1`).join(',');
    const reply = await post(
      '/auth/register',
      `{"email":"many@example.com","password":"password-123",${fields}}`,
      'application/json',
    );
    expect(reply.statusCode).toBe(400);
    expect(reply.json()).toMatchObject({
      statusCode: 400,
      code: 'JSON_TOO_MANY_VALUES',
      message: 'A JSON object in the body holds more than 256 fields',
    });
    expect(await db.collection('users').countDocuments({ email: 'many@example.com' })).toBe(0);
  });

  it('still parses a body exactly 32 levels deep (and then validates it)', async () => {
    const body = `{"email":"x@example.com","password":${'['.repeat(31)}${']'.repeat(31)}}`;
    const reply = await post('/auth/login', body, 'application/json; charset=utf-8');
    expect(reply.statusCode).toBe(400);
    expect(reply.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('answers 415 to a form-encoded login and to text/plain, with the error body', async () => {
    const form = await post(
      '/auth/login',
      `email=${encodeURIComponent(user.email)}&password=${encodeURIComponent(user.password)}`,
      'application/x-www-form-urlencoded',
    );
    expect(form.statusCode).toBe(415);
    expect(form.json()).toMatchObject({ statusCode: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    const text = await post('/auth/login', JSON.stringify({ email: user.email, password: user.password }), 'text/plain');
    expect(text.statusCode).toBe(415);
    expect(text.json()).toMatchObject({ statusCode: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    // Says what to send: a body without its header (`curl -d`) is the usual cause.
    expect(form.json<{ message: string }>().message).toContain('content-type: application/json');
  });

  it('answers 415 to a body in a content coding (gzip, br), stores nothing, and takes identity as no coding', async () => {
    const email = 'encoded@example.com';
    const body = JSON.stringify({ email, password: 'password-123' });
    for (const coding of ['gzip', 'br', 'identity, gzip', 'X-Unknown']) {
      const reply = await app.inject({
        method: 'POST',
        url: '/auth/register',
        payload: body,
        headers: { 'content-type': 'application/json', 'content-encoding': coding },
      });
      expect(reply.statusCode, coding).toBe(415);
      expect(reply.json(), coding).toMatchObject({
        statusCode: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: `Bodies are taken uncompressed; Content-Encoding: ${coding} is not supported`,
      });
    }
    expect(await db.collection('users').countDocuments({ email })).toBe(0);
    const plain = await app.inject({
      method: 'POST',
      url: '/auth/register',
      payload: body,
      headers: { 'content-type': 'application/json', 'content-encoding': 'Identity' },
    });
    expect(plain.statusCode).toBe(201);
  });

  it('refuses __proto__ keys with 400', async () => {
    const reply = await post(
      '/auth/login',
      '{"email":"a@example.com","password":"x","__proto__":{"admin":true}}',
      'application/json',
    );
    expect(reply.statusCode).toBe(400);
    expect(reply.json()).toMatchObject({ statusCode: 400 });
  });
});

describe('headers', () => {
  it('sends security headers on every answer, errors and unknown routes included; no HSTS by default', async () => {
    for (const reply of [
      await app.inject({ method: 'GET', url: '/health' }),
      await app.inject({ method: 'GET', url: '/no-such-route' }),
      await app.inject({ method: 'GET', url: '/users/me' }),
    ]) {
      expect(reply.headers['x-content-type-options']).toBe('nosniff');
      expect(reply.headers['x-frame-options']).toBe('DENY');
      expect(reply.headers['referrer-policy']).toBe('no-referrer');
      expect(reply.headers['content-security-policy']).toContain("default-src 'none'");
      expect(reply.headers['strict-transport-security']).toBeUndefined();
    }
  });

  it('marks token answers Cache-Control: no-store', async () => {
    const login = await post('/auth/login', JSON.stringify({ email: user.email, password: user.password }), 'application/json');
    expect(login.statusCode).toBe(200);
    expect(login.headers['cache-control']).toBe('no-store');
    const refresh = await post(
      '/auth/refresh',
      JSON.stringify({ refreshToken: login.json<{ refreshToken: string }>().refreshToken }),
      'application/json',
    );
    expect(refresh.statusCode).toBe(200);
    expect(refresh.headers['cache-control']).toBe('no-store');
  });

  it('sends HSTS when HSTS_MAX_AGE_SECONDS is set', async () => {
    const hsts = await startTestApp(testConfig(testDatabaseName('hsts'), { HSTS_MAX_AGE_SECONDS: '31536000' }));
    try {
      const reply = await hsts.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      expect(reply.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    } finally {
      await hsts.close();
    }
  });
});
