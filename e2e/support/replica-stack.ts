import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createAuthServer, loadAuthConfig } from '@reward/auth-server/server';
import { createGatewayServer, loadGatewayConfig } from '@reward/gateway/server';
import { inject } from 'vitest';
import { testDatabaseName } from '../../test-support/database.js';
import { UNHURRIED_CLAIM_QUEUE } from '../../test-support/event-env.js';
import { rsaPrivateKeyPem } from '../../test-support/tokens.js';
import { eventServerProcess } from './event-process.js';
import { authEnv, freePort, local } from './stack.js';

export interface ReplicaStack {
  gatewayUrl: string;
  /** The event-server replicas (real processes on one database), by index. */
  eventUrls: string[];
  eventDatabase: { uri: string; name: string };
  /** SIGKILLs one event-server replica and waits until its process is gone. */
  killEvent(index: number): Promise<void>;
  /** SIGTERMs one event-server replica (a rolling deploy's stop); `exited` settles when its process ends. */
  terminateEvent(index: number): { exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> };
  /** Starts a stopped replica again on its port, against the same database. */
  restartEvent(index: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The auth server and the gateway in this process, and `replicas` event servers as processes of their
 * own on one database, all listed in the gateway's EVENT_SERVICE_URL, as a scaled deployment runs them.
 */
export async function startReplicaStack(
  label: string,
  options: { replicas: number; event?: Record<string, string>; gateway?: Record<string, string> },
): Promise<ReplicaStack> {
  const mongoUri = inject('mongoUri');
  const common = { NODE_ENV: 'test', LOG_LEVEL: 'silent', MONGODB_URI: mongoUri };
  const eventPorts: number[] = [];
  for (let index = 0; index < options.replicas; index++) eventPorts.push(await freePort());
  const authPort = await freePort();

  const auth: NestFastifyApplication = await createAuthServer(
    loadAuthConfig({
      ...common,
      ...authEnv(label, rsaPrivateKeyPem()),
      // The relay needs one event server; any replica will do.
      EVENT_SERVICE_URL: local(eventPorts[0] as number),
    }),
  );
  await auth.listen({ host: '127.0.0.1', port: authPort });
  const authUrl = local(authPort);
  const jwksUrl = `${authUrl}/.well-known/jwks.json`;

  const eventDbName = testDatabaseName(`${label}_event`);
  const eventEnv = {
    ...common,
    EVENT_DB_NAME: eventDbName,
    AUTH_JWKS_URL: jwksUrl,
    ...UNHURRIED_CLAIM_QUEUE,
    ...options.event,
  };
  const events = eventPorts.map((port) => eventServerProcess(eventEnv, port));
  await Promise.all(events.map((event) => event.start()));
  const eventUrls = eventPorts.map(local);

  const gateway = await createGatewayServer(
    loadGatewayConfig({
      ...common,
      AUTH_SERVICE_URL: authUrl,
      EVENT_SERVICE_URL: eventUrls.join(','),
      AUTH_JWKS_URL: jwksUrl,
      UPSTREAM_TIMEOUT_MS: '5000',
      ...options.gateway,
    }),
  );
  await gateway.listen({ host: '127.0.0.1', port: 0 });
  const gatewayUrl = (await gateway.getUrl()).replace('[::1]', '127.0.0.1');

  return {
    gatewayUrl,
    eventUrls,
    eventDatabase: { uri: mongoUri, name: eventDbName },
    killEvent: (index) => (events[index] as (typeof events)[number]).stop(),
    terminateEvent: (index) => (events[index] as (typeof events)[number]).terminate(),
    restartEvent: (index) => (events[index] as (typeof events)[number]).start(),
    async close() {
      await gateway.close();
      // The auth server first: its outbox relay keeps posting to the event servers while they close.
      await auth.close();
      await Promise.all(events.map((event) => event.stop()));
    },
  };
}
