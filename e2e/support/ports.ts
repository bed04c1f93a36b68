import { createServer } from 'node:net';

/** Whether nothing listens on `port` of 127.0.0.1 right now (checked by listening on it for a moment). */
export async function canListen(port: number): Promise<boolean> {
  const server = createServer();
  const free = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (free) await new Promise<void>((resolve) => server.close(() => resolve()));
  return free;
}

/** Ports this process handed out: never twice (a listener closed again looks free). */
const handedOut = new Set<number>();

/**
 * A port nobody listens on right now, so servers that must know each other's address can be wired first.
 * Taken below the kernel's ephemeral range (32768-60999 on Linux, 49152 up on macOS) and at random: a port
 * the kernel picked for `listen(0)` and that was closed again can be taken as the local port of any outgoing
 * connection (to the store, to an upstream) before the server listens on it, which on a busy machine made
 * "port already in use" failures; and parallel test files rarely pick the same one.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
}
