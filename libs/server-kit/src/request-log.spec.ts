import { Writable } from 'node:stream';
import Fastify from 'fastify';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchedLogDestination } from './log-destination.js';
import { OneLinePerRequest, addRequestLineFields, lazyRequestLogger } from './request-log.js';

function capture(level: pino.Level): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) if (text) lines.push(JSON.parse(text) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level, base: { service: 'test' } }, stream), lines };
}

/** The same, through the servers' BatchedLogDestination: lines reach `lines` when the batch is written. */
function captureBatched(level: pino.Level): ReturnType<typeof capture> & { destination: BatchedLogDestination } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new BatchedLogDestination({
    write: (chunk) => {
      for (const text of Buffer.from(chunk).toString('utf8').split('\n'))
        if (text) lines.push(JSON.parse(text) as Record<string, unknown>);
    },
  });
  return { logger: pino({ level, base: { service: 'test' } }, destination), lines, destination };
}

describe('OneLinePerRequest', () => {
  const apps: Array<{ close(): PromiseLike<unknown> }> = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  async function appLogging(level: pino.Level, { logger, lines } = capture(level)) {
    const app = Fastify({
      loggerInstance: logger,
      logController: new OneLinePerRequest(logger),
      childLoggerFactory: lazyRequestLogger,
      requestIdHeader: 'x-request-id',
    });
    apps.push(app);
    app.get('/ok', async () => ({ ok: true }));
    app.get('/signed-in', async (request) => {
      (request as unknown as { user: { id: string; roles: string[] } }).user = { id: 'user-"7"', roles: ['USER'] };
      return { ok: true };
    });
    app.get('/refused', async (request, reply) => {
      addRequestLineFields(request, { upstream: 'event', code: 'UPSTREAM_TIMEOUT' });
      return reply.code(504).send({ late: true });
    });
    app.get('/unanswered', async (request, reply) => {
      addRequestLineFields(request, { upstream: 'event', code: 'IDEMPOTENCY_IN_PROGRESS' });
      return reply.code(409).send({ unanswered: true });
    });
    app.get('/down', async (_request, reply) => reply.code(503).send({ down: true }));
    app.get('/boom', async () => {
      throw new Error('boom');
    });
    await app.ready();
    return { app, lines };
  }

  it('writes one info line per request: method, url, client address, status, time, request id, as pino would', async () => {
    const { app, lines } = await appLogging('info');
    await app.inject({
      method: 'GET',
      url: '/ok?page=2',
      headers: { 'x-request-id': 'request-0001', authorization: 'Bearer secret' },
    });
    expect(lines).toEqual([
      {
        level: 30,
        time: expect.any(Number),
        service: 'test',
        reqId: 'request-0001',
        req: { method: 'GET', url: '/ok?page=2', remoteAddress: '127.0.0.1' },
        res: { statusCode: 200 },
        responseTime: expect.any(Number),
        msg: 'request completed',
      },
    ]);
    expect(JSON.stringify(lines)).not.toContain('secret');
  });

  it("names the authenticated caller, and escapes what the client chose (url, the token's subject)", async () => {
    const { app, lines } = await appLogging('info');
    await app.inject({ method: 'GET', url: '/signed-in?q=a\\b' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ userId: 'user-"7"', req: { url: '/signed-in?q=a\\b' } });
  });

  it('carries the fields a handler added to the line', async () => {
    const { app, lines } = await appLogging('info');
    await app.inject({ method: 'GET', url: '/refused' });
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        res: { statusCode: 504 },
        upstream: 'event',
        code: 'UPSTREAM_TIMEOUT',
        msg: 'request completed',
      }),
    ]);
  });

  it('makes the line of a 5xx answer a warn line, and of any answer to an upstream that failed (a 409 for a key)', async () => {
    const { app, lines } = await appLogging('info');
    await app.inject({ method: 'GET', url: '/down' });
    await app.inject({ method: 'GET', url: '/boom' });
    await app.inject({ method: 'GET', url: '/unanswered' });
    const levels = lines.filter((line) => line.msg === 'request completed' || line.msg === 'request errored');
    expect(levels.map((line) => [line.level, (line.res as { statusCode: number }).statusCode])).toEqual([
      [40, 503],
      [40, 500],
      [40, 409],
    ]);
  });

  it('honours the level: nothing at warn for a 200, nothing at error for a 503', async () => {
    const atWarn = await appLogging('warn');
    await atWarn.app.inject({ method: 'GET', url: '/ok' });
    expect(atWarn.lines).toEqual([]);
    await atWarn.app.inject({ method: 'GET', url: '/down' });
    expect(atWarn.lines.map((line) => line.level)).toEqual([40]);
    const atError = await appLogging('error');
    await atError.app.inject({ method: 'GET', url: '/down' });
    expect(atError.lines).toEqual([]);
  });

  it("on the servers' batched destination: the same lines, made later, in order with the lines through pino", async () => {
    const sink = captureBatched('info');
    const { app, lines } = await appLogging('info', sink);
    await app.inject({ method: 'GET', url: '/refused', headers: { 'x-request-id': 'request-0011' } });
    app.log.warn('said between two answers');
    await app.inject({ method: 'GET', url: '/signed-in?q=a\\b', headers: { 'x-request-id': 'request-0012' } });
    // Held as values until the batch is written (or LOG_FLUSH_DELAY_MS has passed).
    expect(lines).toEqual([]);
    sink.destination.flush();
    // The same text as made at once (the format is one function): the fields are checked in full above.
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, reqId: 'request-0011', upstream: 'event', code: 'UPSTREAM_TIMEOUT' }),
      expect.objectContaining({ level: 40, msg: 'said between two answers' }),
      expect.objectContaining({
        level: 30,
        reqId: 'request-0012',
        userId: 'user-"7"',
        req: expect.objectContaining({ url: '/signed-in?q=a\\b' }),
      }),
    ]);
    sink.destination.close();
  });

  it('is an error line with the error serialised when the answer failed', () => {
    const { logger, lines } = capture('info');
    const controller = new OneLinePerRequest(logger);
    const request = { id: 'request-0002', method: 'GET', url: '/x', ip: '127.0.0.1' };
    const reply = { statusCode: 200, elapsedTime: 1.5, log: logger.child({ reqId: request.id }) };
    controller.requestCompleted(new Error('socket hang up'), request as never, reply as never);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 50,
        reqId: 'request-0002',
        req: { method: 'GET', url: '/x', remoteAddress: '127.0.0.1' },
        err: expect.objectContaining({ message: 'socket hang up', stack: expect.any(String) }),
        msg: 'request errored',
      }),
    ]);
  });
});

describe('lazyRequestLogger', () => {
  it('makes no child logger for a request that writes nothing through it, and one that binds reqId for one that does', async () => {
    const { logger, lines } = capture('info');
    const app = Fastify({
      loggerInstance: logger,
      logController: new OneLinePerRequest(logger),
      childLoggerFactory: lazyRequestLogger,
      requestIdHeader: 'x-request-id',
    });
    try {
      app.get('/quiet', async (request) => {
        request.log.debug('below the level');
        return { ok: true };
      });
      app.get('/says', async (request) => {
        request.log.warn({ detail: 1 }, 'something to say');
        return { ok: true };
      });
      await app.ready();
      const child = vi.spyOn(app.log, 'child');
      await app.inject({ method: 'GET', url: '/quiet', headers: { 'x-request-id': 'request-0003' } });
      expect(child).not.toHaveBeenCalled();
      await app.inject({ method: 'GET', url: '/says', headers: { 'x-request-id': 'request-0004' } });
      expect(child).toHaveBeenCalledTimes(1);
      expect(lines.filter((line) => line.msg === 'something to say')).toEqual([
        expect.objectContaining({ level: 40, reqId: 'request-0004', detail: 1, service: 'test' }),
      ]);
      expect(lines.some((line) => line.msg === 'below the level')).toBe(false);
    } finally {
      await app.close();
    }
  });
});
