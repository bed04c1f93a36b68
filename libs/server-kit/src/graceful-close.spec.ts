import { once } from 'node:events';
import { type AddressInfo, connect } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { boundGracefulClose } from './graceful-close.js';

describe('boundGracefulClose', () => {
  const apps: FastifyInstance[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  async function serve(
    graceMs: number,
    handler: () => Promise<unknown>,
    onPreClose?: () => void,
  ): Promise<{ app: FastifyInstance; port: number }> {
    const app = Fastify({ return503OnClosing: false, forceCloseConnections: 'idle' });
    boundGracefulClose(app, graceMs);
    if (onPreClose) {
      app.addHook('preClose', (done) => {
        onPreClose();
        done();
      });
    }
    app.get('/work', handler);
    await app.listen({ host: '127.0.0.1', port: 0 });
    return { app, port: (app.server.address() as AddressInfo).port };
  }

  /** A raw connection that has been accepted by the server (so the close has to deal with it). */
  async function accepted(app: FastifyInstance, port: number) {
    const accepting = once(app.server, 'connection');
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    await accepting;
    return socket;
  }

  it('ends a connection that has sent nothing (Node would wait a minute for its headers)', async () => {
    // A grace period longer than any test: only the rule for silent connections can let this close finish.
    const { app, port } = await serve(600_000, async () => ({ ok: true }));
    const silent = await accepted(app, port);
    const ended = once(silent, 'close');
    await app.close();
    await ended;
    expect(silent.destroyed).toBe(true);
  });

  it('answers 503, not with a reset, a request sent on a connection accepted but not yet read when the close began', async () => {
    // A proxy writes its request the moment it has connected; a stop signal that comes between the accept and the
    // read of those bytes reset the connection, and the proxy, its request sent, could only answer 502 (it may
    // have been received). Nothing of it was read: it is answered as any request that arrives while closing.
    let calls = 0;
    let closeBegan!: () => void;
    const closing = new Promise<void>((resolve) => (closeBegan = resolve));
    const { app, port } = await serve(
      600_000,
      async () => {
        calls++;
        return { done: true };
      },
      () => closeBegan(),
    );
    const client = await accepted(app, port);
    let answer = '';
    client.setEncoding('utf8');
    client.on('data', (chunk: string) => (answer += chunk));
    const ended = once(client, 'close');
    const closed = app.close();
    await closing;
    client.write('GET /work HTTP/1.1\r\nHost: x\r\n\r\n');
    await ended;
    const [head, body] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1.1 503 /);
    expect(JSON.parse(body!)).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 1 });
    expect(calls).toBe(0);
    await closed;
  });

  it('lets a request in flight finish after the close began, then ends its keep-alive connection', async () => {
    let entered!: () => void;
    let finish!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    // A grace period longer than any test: only ending the connection once its answer is sent lets the close finish.
    let closeBegan!: () => void;
    const closing = new Promise<void>((resolve) => (closeBegan = resolve));
    const { app, port } = await serve(
      600_000,
      async () => {
        entered();
        await new Promise<void>((resolve) => (finish = resolve));
        return { done: true };
      },
      () => closeBegan(),
    );
    const answer = fetch(`http://127.0.0.1:${port}/work`).then(async (response) => ({
      status: response.status,
      body: (await response.json()) as unknown,
    }));
    await inHandler;
    const closed = app.close();
    await closing;
    await new Promise((resolve) => setImmediate(resolve));
    // The close has begun (the hooks ran) and is waiting for this request, which is still answered.
    finish();
    expect(await answer).toEqual({ status: 200, body: { done: true } });
    await closed;
  });

  it('answers a request that arrives once the close has begun 503 with Retry-After, without working on it', async () => {
    let entered!: () => void;
    let finish!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    let calls = 0;
    let closeBegan!: () => void;
    const closing = new Promise<void>((resolve) => (closeBegan = resolve));
    const { app, port } = await serve(
      600_000,
      async () => {
        calls++;
        entered();
        await new Promise<void>((resolve) => (finish = resolve));
        return { done: true };
      },
      () => closeBegan(),
    );
    // A request in flight keeps the close waiting; a second connection has sent part of its request.
    const first = fetch(`http://127.0.0.1:${port}/work`).then((response) => response.status);
    await inHandler;
    const serverSide = once(app.server, 'connection') as Promise<[import('node:net').Socket]>;
    const late = connect(port, '127.0.0.1');
    const [socket] = await serverSide;
    const read = once(socket, 'data');
    late.write('GET /work HTTP/1.1\r\nHost: x\r\n');
    await read;
    let answer = '';
    late.setEncoding('utf8');
    late.on('data', (chunk: string) => (answer += chunk));
    const ended = once(late, 'close');
    const closed = app.close();
    // The close has begun (its preClose hooks ran): the rest of the late request arrives now.
    await closing;
    late.write('\r\n');
    await ended;
    const [head, body] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1.1 503 /);
    expect(head).toMatch(/\r\nretry-after: 1/i);
    expect(head).toMatch(/\r\nconnection: close/i);
    expect(JSON.parse(body!)).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 1 });
    expect(calls).toBe(1);
    finish();
    expect(await first).toBe(200);
    await closed;
  });

  it('drops the connection of a request that never finishes once the grace period is over', async () => {
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    const { app, port } = await serve(50, () => {
      entered();
      return new Promise<never>(() => undefined);
    });
    const answer = fetch(`http://127.0.0.1:${port}/work`).then(
      () => 'answered',
      () => 'dropped',
    );
    await inHandler;
    await app.close();
    expect(await answer).toBe('dropped');
  });
});
