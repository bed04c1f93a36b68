import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createAuthServer, loadAuthConfig } from '@reward/auth-server/server';
import { createEventServer, loadEventConfig } from '@reward/event-server/server';
import { createGatewayServer, loadGatewayConfig } from '@reward/gateway/server';
import { testDatabaseName } from '../../test-support/database.js';
import { UNHURRIED_CLAIM_QUEUE } from '../../test-support/event-env.js';
import { rsaPrivateKeyPem } from '../../test-support/tokens.js';
import { eventServerProcess } from './event-process.js';
import { freePort } from './ports.js';
import { inject } from 'vitest';

export const ADMIN = { email: 'admin@e2e.test', password: 'admin-password-e2e' };

export interface Stack {
  gatewayUrl: string;
  authUrl: string;
  eventUrl: string;
  /** The auth server's signing key (PEM), so tests can forge tokens the way an attacker could not. */
  privateKeyPem: string;
  /** Stops the event server: gracefully in-process, or with SIGKILL when it runs as a process of its own. */
  stopEvent(): Promise<void>;
  /** Starts the event server again on its old port, against the same database. */
  restartEvent(): Promise<void>;
  /** The event server's database (for tests that check what a crash left behind in the store itself). */
  eventDatabase: { uri: string; name: string };
  stopAuth(): Promise<void>;
  close(): Promise<void>;
}

async function listen(app: NestFastifyApplication, port = 0): Promise<string> {
  await app.listen({ host: '127.0.0.1', port });
  return (await app.getUrl()).replace('[::1]', '127.0.0.1');
}

export { freePort };

export interface StackOptions {
  auth?: Record<string, string>;
  /**
   * Runs the event server as a child process (from its TypeScript sources) with these extra variables,
   * so a test can SIGKILL it mid-request the way a crash would, instead of closing it gracefully.
   */
  eventProcess?: Record<string, string>;
}

/** A running event server that can be stopped (idempotently) and started again on the same port. */
interface EventServerHandle {
  stop(): Promise<void>;
  start(): Promise<void>;
}

function inProcessEventServer(env: Record<string, string>, port: number): EventServerHandle {
  const config = loadEventConfig(env);
  let app: NestFastifyApplication | undefined;
  return {
    async start() {
      app = await createEventServer(config);
      await listen(app, port);
    },
    async stop() {
      await app?.close();
      app = undefined;
    },
  };
}

/**
 * The auth server's settings in an e2e stack: its own database, the given key, the bootstrap ADMIN, cheap
 * hashing, throttles no test reaches, and an outbox relay that delivers within milliseconds.
 */
export function authEnv(label: string, privateKeyPem: string): Record<string, string> {
  return {
    AUTH_DB_NAME: testDatabaseName(`${label}_auth`),
    JWT_PRIVATE_KEY: privateKeyPem,
    BCRYPT_ROUNDS: '4',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS: '1000',
    LOGIN_FAILURES_PER_ACCOUNT: '1000',
    LOGIN_FAILURES_PER_ADDRESS: '100000',
    REGISTRATIONS_PER_ADDRESS: '100000',
    OUTBOX_RELAY_INTERVAL_MS: '50',
    OUTBOX_RETRY_BASE_MS: '50',
    OUTBOX_RETRY_MAX_MS: '300',
  };
}

/** The "[::1]"-free base URL a server listens on. */
export const local = (port: number): string => `http://127.0.0.1:${port}`;

/** The three real servers on free ports against the test database server; tests talk to the gateway only. */
export async function startStack(label: string, overrides: StackOptions = {}): Promise<Stack> {
  const mongoUri = inject('mongoUri');
  const privateKeyPem = rsaPrivateKeyPem();
  const common = { NODE_ENV: 'test', LOG_LEVEL: 'silent', MONGODB_URI: mongoUri };
  const [authPort, eventPort] = [await freePort(), await freePort()];

  const auth = await createAuthServer(
    loadAuthConfig({
      ...common,
      ...authEnv(label, privateKeyPem),
      // The outbox relay delivers LOGIN / FRIEND_INVITE / role-change audit entries to the real event server.
      EVENT_SERVICE_URL: local(eventPort),
      ...overrides.auth,
    }),
  );
  const authUrl = await listen(auth, authPort);
  const jwksUrl = `${authUrl}/.well-known/jwks.json`;

  const eventEnv = {
    ...common,
    EVENT_DB_NAME: testDatabaseName(`${label}_event`),
    AUTH_JWKS_URL: jwksUrl,
    ...UNHURRIED_CLAIM_QUEUE,
  };
  const event = overrides.eventProcess
    ? eventServerProcess({ ...eventEnv, ...overrides.eventProcess }, eventPort)
    : inProcessEventServer(eventEnv, eventPort);
  await event.start();
  const eventUrl = local(eventPort);

  const gateway = await createGatewayServer(
    loadGatewayConfig({
      ...common,
      AUTH_SERVICE_URL: authUrl,
      EVENT_SERVICE_URL: eventUrl,
      AUTH_JWKS_URL: jwksUrl,
      UPSTREAM_TIMEOUT_MS: '5000',
    }),
  );
  const gatewayUrl = await listen(gateway);

  let authOpen = true;
  return {
    gatewayUrl,
    authUrl,
    eventUrl,
    privateKeyPem,
    eventDatabase: { uri: mongoUri, name: eventEnv.EVENT_DB_NAME },
    stopEvent: () => event.stop(),
    restartEvent: () => event.start(),
    async stopAuth() {
      authOpen = false;
      await auth.close();
    },
    async close() {
      await gateway.close();
      // The auth server first: its outbox relay keeps posting to the event server every few milliseconds,
      // and an event server closing under that traffic could wait for its connections for a minute.
      if (authOpen) await auth.close();
      await event.stop();
    },
  };
}
