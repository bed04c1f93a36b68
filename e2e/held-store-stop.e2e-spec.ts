import { once } from 'node:events';
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testDatabaseName } from '../test-support/database.js';
import { UNHURRIED_CLAIM_QUEUE } from '../test-support/event-env.js';
import { eventServerProcess } from './support/event-process.js';
import { freePort, local } from './support/stack.js';

/**
 * A TCP relay in front of the store that can be held: once held, nothing more passes either way and new
 * connections are taken but never relayed (a store that stops answering: a host paused, a network cut).
 */
async function holdableRelay(target: URL): Promise<{ server: Server; uri: string; hold(): void }> {
  let held = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.on('error', () => undefined);
    if (held) return void client.pause();
    const store = connect(Number(target.port), target.hostname);
    sockets.add(store);
    store.on('error', () => client.destroy());
    client.on('close', () => store.destroy());
    client.pipe(store);
    store.pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const uri = new URL(target.href);
  uri.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    server,
    uri: uri.href,
    hold() {
      held = true;
      for (const socket of sockets) {
        socket.unpipe();
        socket.pause();
      }
    },
  };
}

/**
 * A SIGTERMed server gives its requests in flight 8 s and then closes its store connection; compose sends SIGKILL
 * 20 s after SIGTERM. With the store not answering, the shutdown waited for it (its sweeps' commands, the driver's
 * close): the process ran on for as long as the store was held, past any SIGKILL, and for ever under a supervisor
 * that sends none. It now ends by STOP_DEADLINE_MS whatever it waits for.
 */
describe('a server stopped with SIGTERM while its store does not answer', () => {
  let relay: Awaited<ReturnType<typeof holdableRelay>>;
  let replica: ReturnType<typeof eventServerProcess>;
  let url: string;

  beforeAll(async () => {
    relay = await holdableRelay(new URL(inject('mongoUri')));
    const port = await freePort();
    url = local(port);
    replica = eventServerProcess(
      {
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        MONGODB_URI: relay.uri,
        EVENT_DB_NAME: testDatabaseName('held_store_event'),
        // No token is verified here: nothing listens there.
        AUTH_JWKS_URL: `${local(await freePort())}/.well-known/jwks.json`,
        ...UNHURRIED_CLAIM_QUEUE,
      },
      port,
    );
    await replica.start();
  }, 120_000);

  afterAll(async () => {
    await replica?.stop().catch(() => undefined);
    relay?.server.close();
  });

  it('still ends, with the stop signal for its code', async () => {
    relay.hold();
    // The store is held once the server's own health check says so.
    for (;;) {
      const status = await fetch(`${url}/health`, { headers: { connection: 'close' } }).then(
        (response) => response.status,
        () => 0,
      );
      if (status !== 200) break;
    }
    const { exited } = replica.terminate();
    const how = await exited;
    // Ended by the deadline (exit code 128 + SIGTERM's 15). Its own shutdown, waiting for the held store, ends only
    // when the driver gives up on it (30 s): then Nest re-raises the signal (before, 38 s after SIGTERM).
    expect(how).toEqual({ code: 143, signal: null });
  }, 120_000);
});
