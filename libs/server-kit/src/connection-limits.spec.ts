import { EventEmitter, once } from 'node:events';
import { type Server, createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type OverLimit,
  REFUSED_HELD_MAX,
  REFUSED_HELD_MS,
  REFUSED_HELD_PER_CLIENT_MAX,
  clientKeyOf,
  LOOPBACK_ROOM,
  fitToOpenFiles,
  isLoopback,
  openFilesLimit,
  limitConnections,
} from './connection-limits.js';

/** A socket as limitConnections sees one: its address, destroy() (which closes it), close. */
class FakeSocket extends EventEmitter {
  destroyed = false;
  constructor(readonly remoteAddress: string) {
    super();
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }
}

function limitedServer(total: number, perAddress: number, unlimited?: (address: string) => boolean) {
  const server = new EventEmitter();
  const { refused } = limitConnections(server as unknown as Server, { total, perAddress }, unlimited);
  const connect = (address: string) => {
    const socket = new FakeSocket(address);
    server.emit('connection', socket);
    return socket;
  };
  return { connect, refused };
}

describe('clientKeyOf', () => {
  it('counts an IPv4 address as it is, also when an IPv6 listener writes it IPv4-mapped', () => {
    expect(clientKeyOf('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKeyOf('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKeyOf('::FFFF:203.0.113.7')).toBe('203.0.113.7');
  });

  it('counts an IPv6 address by its /64, however it is written', () => {
    const key = '2001:db8:0:1::/64';
    expect(clientKeyOf('2001:db8:0:1::1')).toBe(key);
    expect(clientKeyOf('2001:0db8:0000:0001:ffff:ffff:ffff:ffff')).toBe(key);
    expect(clientKeyOf('2001:db8:0:1:a:b:c:d%eth0')).toBe(key);
    expect(clientKeyOf('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKeyOf('2001:db8:0:2::1')).not.toBe(key);
    expect(clientKeyOf('::1')).toBe('0:0:0:0::/64');
    expect(clientKeyOf('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
  });

  it('knows loopback in either family', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(isLoopback(address), address).toBe(true);
    for (const address of ['10.0.0.1', '::2', '::ffff:10.0.0.1', '']) expect(isLoopback(address), address).toBe(false);
  });
});

describe('limitConnections', () => {
  it('closes at once the connection over the per-address limit, and takes one again when another closed', () => {
    const { connect, refused } = limitedServer(0, 2);
    const [a, b] = [connect('203.0.113.7'), connect('::ffff:203.0.113.7')];
    const over = connect('203.0.113.7');
    expect([a.destroyed, b.destroyed, over.destroyed]).toEqual([false, false, true]);
    expect(connect('198.51.100.1').destroyed).toBe(false);
    expect(refused()).toBe(1);
    a.destroy(); // a client reset closes it too
    expect(connect('203.0.113.7').destroyed).toBe(false);
    expect(connect('203.0.113.7').destroyed).toBe(true);
  });

  it('counts an IPv6 client by its /64', () => {
    const { connect } = limitedServer(0, 2);
    expect(connect('2001:db8:0:1::1').destroyed).toBe(false);
    expect(connect('2001:db8:0:1::2').destroyed).toBe(false);
    expect(connect('2001:db8:0:1:ffff::3').destroyed).toBe(true);
    expect(connect('2001:db8:0:2::1').destroyed).toBe(false);
  });

  it('keeps the total, leaving room for loopback (the health check)', () => {
    const { connect, refused } = limitedServer(2, 0);
    const first = connect('203.0.113.1');
    connect('203.0.113.2');
    expect(connect('203.0.113.3').destroyed).toBe(true);
    expect(connect('127.0.0.1').destroyed).toBe(false);
    expect(connect('::1').destroyed).toBe(false);
    expect(refused()).toBe(1);
    first.destroy();
    expect(connect('203.0.113.3').destroyed).toBe(true); // the loopback ones count towards the total too
  });

  it('leaves loopback LOOPBACK_ROOM connections past the total, not more (a local proxy or load test is bounded too)', () => {
    const { connect, refused } = limitedServer(2, 0);
    connect('203.0.113.1');
    connect('203.0.113.2');
    const local = Array.from({ length: LOOPBACK_ROOM }, () => connect('127.0.0.1'));
    expect(local.every((socket) => !socket.destroyed)).toBe(true);
    expect(connect('::1').destroyed).toBe(true);
    expect(refused()).toBe(1);
    local[0]!.destroy();
    expect(connect('::1').destroyed).toBe(false);
  });

  it('does not count per address the connections of a trusted proxy, through which many clients come', () => {
    const { connect } = limitedServer(0, 1, (address) => address === '10.0.0.5');
    for (let i = 0; i < 5; i++) expect(connect('10.0.0.5').destroyed).toBe(false);
    expect(connect('10.0.0.6').destroyed).toBe(false);
    expect(connect('10.0.0.6').destroyed).toBe(true);
  });
});

describe('limitConnections with an answer for the connections it refuses', () => {
  afterEach(() => vi.useRealTimers());

  /** A server whose one request listener (Fastify's) records what reached it; refused ones are answered. */
  function answeringServer(total: number, perAddress: number) {
    const server = new EventEmitter();
    const routed: string[] = [];
    const answered: [string, OverLimit][] = [];
    server.on('request', (request: { url: string }) => routed.push(request.url));
    const { refused } = limitConnections(
      server as unknown as Server,
      { total, perAddress },
      undefined,
      (request, _response, over) => answered.push([request.url ?? '', over]),
    );
    const connect = (address: string) => {
      const socket = new FakeSocket(address);
      server.emit('connection', socket);
      return socket;
    };
    const request = (socket: FakeSocket, url: string) => server.emit('request', { socket, url }, {});
    return { connect, request, refused, routed, answered };
  }

  it('holds a connection over a limit for its one request, which is answered and never routed', () => {
    const { connect, request, refused, routed, answered } = answeringServer(3, 1);
    const admitted = connect('203.0.113.7');
    const overClient = connect('203.0.113.7');
    connect('198.51.100.1');
    connect('198.51.100.2');
    const overTotal = connect('198.51.100.3');
    expect([admitted, overClient, overTotal].map((socket) => socket.destroyed)).toEqual([false, false, false]);
    expect(refused()).toBe(2);
    request(admitted, '/a');
    request(overClient, '/b');
    request(overTotal, '/c');
    expect(routed).toEqual(['/a']);
    expect(answered).toEqual([
      ['/b', 'client'],
      ['/c', 'total'],
    ]);
  });

  it('closes at once a connection past the ones it may hold, and one held too long', () => {
    vi.useFakeTimers();
    const { connect } = answeringServer(0, 1);
    const addresses = Array.from({ length: REFUSED_HELD_MAX / REFUSED_HELD_PER_CLIENT_MAX }, (_, i) => `203.0.113.${i + 1}`);
    for (const address of addresses) connect(address);
    const held = addresses.flatMap((address) => Array.from({ length: REFUSED_HELD_PER_CLIENT_MAX }, () => connect(address)));
    expect(held.some((socket) => socket.destroyed)).toBe(false);
    connect('198.51.100.1');
    expect(connect('198.51.100.1').destroyed).toBe(true);
    held[0]!.destroy(); // answered and closed: its place is free again
    const another = connect('203.0.113.1');
    expect(another.destroyed).toBe(false);
    vi.advanceTimersByTime(REFUSED_HELD_MS - 1);
    expect(another.destroyed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(another.destroyed).toBe(true);
    expect(held.every((socket) => socket.destroyed)).toBe(true);
  });

  it('holds at most REFUSED_HELD_PER_CLIENT_MAX for one client: one host cannot take every place', () => {
    const { connect } = answeringServer(0, 1);
    connect('203.0.113.7');
    const held = Array.from({ length: REFUSED_HELD_PER_CLIENT_MAX }, () => connect('203.0.113.7'));
    expect(held.some((socket) => socket.destroyed)).toBe(false);
    expect(connect('203.0.113.7').destroyed).toBe(true);
    connect('198.51.100.1');
    expect(connect('198.51.100.1').destroyed).toBe(false);
    held[0]!.destroy();
    expect(connect('203.0.113.7').destroyed).toBe(false);
  });

  it('does not send 100 Continue on a refused connection: its request is answered before its body is asked for', async () => {
    const server = createServer((_request, response) => response.end('routed'));
    limitConnections(server, { total: 0, perAddress: 1 }, undefined, (request, response, over) => {
      response.writeHead(over === 'client' ? 429 : 503, { connection: 'close' });
      response.end();
      request.resume();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    /** Sends `text` on a new connection; what came back once it matches `enough`, or once the server closed. */
    const exchange = async (text: string, enough: RegExp) => {
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      let received = '';
      const done = new Promise<void>((resolve) => {
        socket.on('data', (chunk: Buffer) => {
          received += chunk.toString('latin1');
          if (enough.test(received)) resolve();
        });
        socket.once('close', () => resolve());
      });
      socket.write(text);
      await done;
      return { socket, received };
    };
    const expecting = 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n';
    // Admitted: Node's own handling, 100 Continue then the route's answer.
    const admitted = await exchange(expecting, /routed$/);
    expect(admitted.received).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 [^]*routed$/);
    // Refused: the answer at once, no invitation to send the body, and the connection closed.
    const refused = await exchange(expecting, /^$/);
    expect(refused.received).toMatch(/^HTTP\/1\.1 429 /);
    expect(refused.received).not.toMatch(/100 Continue/);
    expect(refused.socket.destroyed).toBe(true);
    admitted.socket.destroy();
    server.close();
  });
});

describe('openFilesLimit', () => {
  const limits = (line: string) =>
    [
      'Limit                     Soft Limit           Hard Limit           Units',
      'Max cpu time              unlimited            unlimited            seconds',
      line,
    ].join('\n');

  it("reads the process's soft limit of open files", () => {
    expect(openFilesLimit(() => limits('Max open files            20000                20000                files'))).toBe(
      20_000,
    );
    expect(openFilesLimit(() => limits('Max open files            1024                 524288               files'))).toBe(1_024);
  });

  it('gives nothing where there is no limit to read, or none at all', () => {
    expect(
      openFilesLimit(() => limits('Max open files            unlimited            unlimited            files')),
    ).toBeUndefined();
    expect(
      openFilesLimit(() => {
        throw new Error('ENOENT');
      }),
    ).toBeUndefined();
  });
});

describe('fitToOpenFiles', () => {
  it('keeps a total the open files allow once the reserve is set aside', () => {
    expect(fitToOpenFiles({ total: 10_000, perAddress: 1_000 }, 6_352, 20_000)).toEqual({
      limits: { total: 10_000, perAddress: 1_000 },
      lowered: 0,
    });
    expect(fitToOpenFiles({ total: 10_000, perAddress: 0 }, 6_352, undefined).lowered).toBe(0);
  });

  it('lowers a total (or no limit) past them, and says by how much', () => {
    expect(fitToOpenFiles({ total: 10_000, perAddress: 1_000 }, 6_352, 16_000)).toEqual({
      limits: { total: 16_000 - 6_352 - LOOPBACK_ROOM, perAddress: 1_000 },
      lowered: 10_000 - (16_000 - 6_352 - LOOPBACK_ROOM),
    });
    expect(fitToOpenFiles({ total: 0, perAddress: 0 }, 6_352, 65_536).limits.total).toBe(65_536 - 6_352 - LOOPBACK_ROOM);
  });

  it('leaves clients half the descriptors at least when the reserve alone would take them all', () => {
    expect(fitToOpenFiles({ total: 10_000, perAddress: 0 }, 6_352, 1_024).limits.total).toBe(512);
  });
});
