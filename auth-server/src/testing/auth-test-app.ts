import { randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import mongoose from 'mongoose';
import { afterAll, afterEach, beforeAll, inject, vi } from 'vitest';
import { type AuthConfig, loadAuthConfig } from '../config/auth-config.js';
import { createAuthServer } from '../server.js';

export const TEST_ADMIN = { email: 'root@example.com', password: 'root-password-123' };

export function testConfig(dbName: string, env: Record<string, string | undefined> = {}): AuthConfig {
  return loadAuthConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    MONGODB_URI: inject('mongoUri'),
    AUTH_DB_NAME: dbName,
    BCRYPT_ROUNDS: '4',
    ADMIN_EMAIL: TEST_ADMIN.email,
    ADMIN_PASSWORD: TEST_ADMIN.password,
    LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS: '1000',
    LOGIN_FAILURES_PER_ACCOUNT: '1000',
    LOGIN_FAILURES_PER_ADDRESS: '100000',
    REGISTRATIONS_PER_ADDRESS: '100000',
    // Rows are still written; only the outbox tests start a relay (against a fake event server).
    OUTBOX_ENABLED: 'false',
    ...env,
  });
}

export async function startTestApp(config: AuthConfig): Promise<NestFastifyApplication> {
  return createAuthServer(config);
}

/** Direct access to the test database, to check what was (not) written. */
export async function openTestDatabase(dbName: string): Promise<mongoose.Connection> {
  return mongoose.createConnection(inject('mongoUri'), { dbName }).asPromise();
}

/** An app and its database for the tests of one `describe` block (see appPerBlock). */
export interface BlockApp {
  readonly app: NestFastifyApplication;
  readonly db: mongoose.Connection;
}

/**
 * Starts an app on a database of its own for the enclosing `describe` block, with `env` over the tests' config,
 * and a direct connection to that database; puts back every spy after each test (vi.restoreAllMocks); closes
 * the app and drops its database after the block. Call it in the block's body; read `app` and `db` in tests.
 */
export function appPerBlock(dbName: string, env: Record<string, string | undefined> = {}): BlockApp {
  let app: NestFastifyApplication | undefined;
  let db: mongoose.Connection | undefined;
  beforeAll(async () => {
    app = await startTestApp(testConfig(dbName, env));
    db = await openTestDatabase(dbName);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    await app?.close();
    await db?.dropDatabase();
    await db?.close();
  });
  return {
    get app() {
      if (!app) throw new Error('appPerBlock: the app is started in beforeAll; read it in a test');
      return app;
    },
    get db() {
      if (!db) throw new Error('appPerBlock: the database is opened in beforeAll; read it in a test');
      return db;
    },
  };
}

export interface Reply {
  status: number;
  headers: Record<string, unknown>;
  body: Record<string, unknown>;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export async function call(
  app: NestFastifyApplication,
  method: Method,
  url: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string>; remoteAddress?: string } = {},
): Promise<Reply> {
  const response = await app.inject({
    method,
    url,
    headers: {
      ...(options.body !== undefined && { 'content-type': 'application/json' }),
      ...(options.token && { authorization: `Bearer ${options.token}` }),
      ...options.headers,
    },
    ...(options.body !== undefined && {
      payload: typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
    }),
    ...(options.remoteAddress && { remoteAddress: options.remoteAddress }),
  });
  const text = response.body;
  return {
    status: response.statusCode,
    headers: response.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

let counter = 0;
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}-${counter}-${randomBytes(3).toString('hex')}@example.com`;
}

export async function register(
  app: NestFastifyApplication,
  input: { email?: string; password?: string; nickname?: string; referralCode?: string } = {},
): Promise<Reply & { email: string; password: string }> {
  const email = input.email ?? uniqueEmail();
  const password = input.password ?? 'password-123';
  const reply = await call(app, 'POST', '/auth/register', { body: { ...input, email, password } });
  return { ...reply, email, password };
}

export async function login(app: NestFastifyApplication, email: string, password: string): Promise<Reply> {
  return call(app, 'POST', '/auth/login', { body: { email, password } });
}

/** A login from `clientIp`, as the gateway (`remoteAddress`, trusted in tests) forwards it in X-Forwarded-For. */
export async function loginFrom(
  app: NestFastifyApplication,
  clientIp: string,
  email: string,
  password: string,
  remoteAddress = '127.0.0.1',
): Promise<Reply> {
  return call(app, 'POST', '/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': clientIp }, remoteAddress });
}

/** A freshly registered account (prefix names the test in its email). */
export async function registeredAccount(
  app: NestFastifyApplication,
  prefix: string,
): Promise<{ email: string; password: string }> {
  const user = await register(app, { email: uniqueEmail(prefix) });
  if (user.status !== 201) throw new Error(`register failed: ${JSON.stringify(user.body)}`);
  return user;
}

/** Registers a fresh USER and logs in; returns its tokens and id. */
export async function signedInUser(
  app: NestFastifyApplication,
): Promise<{ id: string; email: string; password: string; accessToken: string; refreshToken: string }> {
  const registered = await register(app);
  if (registered.status !== 201) throw new Error(`register failed: ${JSON.stringify(registered.body)}`);
  const session = await login(app, registered.email, registered.password);
  if (session.status !== 200) throw new Error(`login failed: ${JSON.stringify(session.body)}`);
  return {
    id: registered.body.id as string,
    email: registered.email,
    password: registered.password,
    accessToken: session.body.accessToken as string,
    refreshToken: session.body.refreshToken as string,
  };
}

export async function signedInAdmin(app: NestFastifyApplication): Promise<{ accessToken: string; refreshToken: string }> {
  const session = await login(app, TEST_ADMIN.email, TEST_ADMIN.password);
  if (session.status !== 200) throw new Error(`admin login failed: ${JSON.stringify(session.body)}`);
  return { accessToken: session.body.accessToken as string, refreshToken: session.body.refreshToken as string };
}
