import { type Server, type Socket, createConnection, createServer } from 'node:net';

/**
 * A TCP relay in front of the test database, which a test can cut and restore: cut, every connection
 * through it is reset and every new one is reset as soon as it is accepted (what a store that crashed and
 * is restarting looks like to the driver); restored, it relays again. Paused, it relays nothing, in either
 * direction, on any connection, and resets none (a store that has stopped answering: hung, or partitioned
 * away); resumed, what waited goes through. The store itself is the real one.
 */
export interface StoreProxy {
  /** The database's URI with the relay's address in place of the store's. */
  uri: string;
  cut(): void;
  restore(): void;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startStoreProxy(storeUri: string): Promise<StoreProxy> {
  const target = new URL(storeUri);
  const targetPort = Number(target.port || 27017);
  const sockets = new Set<Socket>();
  let open = true;
  let paused = false;
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server: Server = createServer((client) => {
    track(client);
    if (!open) {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ host: target.hostname, port: targetPort });
    track(upstream);
    client.pipe(upstream).pipe(client);
    // After pipe(), which resumes its sources.
    if (paused) {
      client.pause();
      upstream.pause();
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const relayed = new URL(storeUri);
  relayed.hostname = '127.0.0.1';
  relayed.port = String(port);
  return {
    uri: relayed.toString(),
    cut() {
      open = false;
      for (const socket of sockets) socket.resetAndDestroy();
    },
    restore() {
      open = true;
    },
    pause() {
      paused = true;
      for (const socket of sockets) socket.pause();
    },
    resume() {
      paused = false;
      for (const socket of sockets) socket.resume();
    },
    async close() {
      open = false;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Calls `attempt` until `isDone` says its result is the awaited state (the driver reconnects, a claim left
 * running finishes: on their own time), a short pause between calls; fails naming `what` and the last result
 * if that state has not come within `deadlineMs`, rather than looping until the test's own time limit.
 */
export async function until<T>(
  what: string,
  attempt: () => Promise<T>,
  isDone: (result: T) => boolean,
  { deadlineMs = 20_000, pauseMs = 50 } = {},
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const result = await attempt();
    if (isDone(result)) return result;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${deadlineMs} ms; last: ${JSON.stringify(result)}`);
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}
