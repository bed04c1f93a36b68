import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { testDatabaseName } from '../../test-support/database.js';
import { type StoreProxy, startStoreProxy, until } from '../../test-support/store-proxy.js';
import { call, login, register, startTestApp, testConfig } from './testing/auth-test-app.js';

/**
 * The auth server with its database gone (a store restarting or failing over): sign-ins and registrations
 * are answered 503 SERVICE_UNAVAILABLE with Retry-After, never 500, and work again once it is back.
 */
describe('the auth server while its database is unavailable', () => {
  let proxy: StoreProxy;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    proxy = await startStoreProxy(inject('mongoUri'));
    app = await startTestApp(testConfig(testDatabaseName('auth_store_outage'), { MONGODB_URI: proxy.uri }));
  });

  afterAll(async () => {
    proxy?.restore();
    await app?.close();
    await proxy?.close();
  });

  it('answers 503 with Retry-After while the store is cut, and signs in again once it is back', async () => {
    const user = await register(app);
    expect(user.status).toBe(201);

    proxy.cut();
    for (const reply of [
      await login(app, user.email, user.password),
      await call(app, 'POST', '/auth/register', { body: { email: `x-${user.email}`, password: 'password-123' } }),
    ]) {
      expect(reply.status).toBe(503);
      expect(reply.body).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE' });
      expect(Number(reply.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    expect((await call(app, 'GET', '/health')).status).toBe(503);

    proxy.restore();
    const signedIn = await until(
      'a sign-in served once the store is back',
      () => login(app, user.email, user.password),
      (reply) => reply.status !== 503,
    );
    expect(signedIn.status).toBe(200);
    expect(signedIn.body).toMatchObject({ accessToken: expect.any(String) });
  });

  it('stays ready while the store is only slow (it answered a ping lately), and reports it once it stays silent', async () => {
    const health = () => call(app, 'GET', '/health');
    expect((await health()).body).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
    // Silent but connected, as a store busy with a launch's crowd is for a second or two: still ready.
    proxy.pause();
    try {
      const slow = await health();
      expect(slow.status).toBe(200);
      expect(slow.body).toMatchObject({ status: 'ok', info: { database: { status: 'up', slow: true } } });
      // Silent for longer than SLOW_GRACE_MS (readiness.ts) since its last answer: 503.
      const silent = await until(
        'a 503 once the store has stayed silent',
        () => health(),
        (reply) => reply.status !== 200,
      );
      expect(silent.status).toBe(503);
      expect(silent.body).toMatchObject({ statusCode: 503 });
    } finally {
      proxy.resume();
    }
    const back = await until(
      'ready again once the store answers',
      () => health(),
      (reply) => reply.status === 200,
    );
    expect(back.body).toMatchObject({ info: { database: { status: 'up' } } });
  });
});
