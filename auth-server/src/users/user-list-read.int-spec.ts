import { getConnectionToken, getModelToken } from '@nestjs/mongoose';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type Connection, type Model, mongo } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { testDatabaseName } from '../../../test-support/database.js';
import { call, signedInAdmin, startTestApp, testConfig } from '../testing/auth-test-app.js';
import { USER_LIST_TOO_SLOW_MESSAGE } from './user.repository.js';
import { UserEntity } from './user.schema.js';

/** The store's time each list command is given here: a value no driver or store default has. */
const READ_MAX_MS = 7_321;

/**
 * GET /users reads every user the filter matches (FerretDB sorts them all in memory): with a launch's players
 * registered, seconds and hundreds of MB of the store that also signs everyone in. Its page and count each carry
 * a time limit the store enforces (LIST_READ_MAX_MS), as the event server's lists do.
 */
describe('GET /users is bounded in store time (LIST_READ_MAX_MS)', () => {
  const dbName = testDatabaseName('user_list_read');
  let app: NestFastifyApplication;
  let admin: { accessToken: string };
  const sent: Array<{ collection: string; method: string; options: Record<string, unknown> | undefined }> = [];

  beforeAll(async () => {
    app = await startTestApp(testConfig(dbName, { LIST_READ_MAX_MS: String(READ_MAX_MS) }));
    admin = await signedInAdmin(app);
    app.get<Connection>(getConnectionToken()).set('debug', (collection: string, method: string, ...args: unknown[]) => {
      const options = args.find((arg, index) => index > 0 && typeof arg === 'object' && arg !== null);
      sent.push({ collection, method, options: options as Record<string, unknown> | undefined });
    });
  });

  afterAll(async () => {
    await app?.get<Connection>(getConnectionToken()).dropDatabase();
    await app?.close();
  });

  it.each(['/users?limit=5', '/users?role=ADMIN'])('GET %s sends its page and its count with maxTimeMS', async (url) => {
    sent.length = 0;
    const reply = await call(app, 'GET', url, { token: admin.accessToken });
    expect(reply.status).toBe(200);
    const commands = sent
      .filter((command) => command.collection === 'users' && ['find', 'countDocuments'].includes(command.method))
      .map((command) => ({ name: command.method, maxTimeMS: command.options?.maxTimeMS }));
    expect(commands.map((command) => command.name).sort()).toEqual(['countDocuments', 'find']);
    for (const command of commands) expect(command).toEqual({ name: command.name, maxTimeMS: READ_MAX_MS });
  });

  it('answers a user list the store stopped for its time 503 with Retry-After, not 500', async () => {
    const expired = new mongo.MongoServerError({ ok: 0, code: 50, codeName: 'MaxTimeMSExpired', errmsg: 'time limit' });
    // The store's own answer to a command past its maxTimeMS, as MongoDB and FerretDB send it, to the count.
    const users = app.get<Model<UserEntity>>(getModelToken(UserEntity.name)).collection;
    const spy = vi.spyOn(users, 'countDocuments').mockImplementation(() => Promise.reject(expired));
    try {
      const reply = await call(app, 'GET', '/users?limit=5', { token: admin.accessToken });
      expect(reply.status).toBe(503);
      expect(reply.headers['retry-after']).toBe('5');
      expect(reply.body).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        message: USER_LIST_TOO_SLOW_MESSAGE,
        retryAfterSeconds: 5,
      });
    } finally {
      spy.mockRestore();
    }
  });
});
