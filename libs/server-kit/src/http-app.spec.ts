import { Writable } from 'node:stream';
import Fastify from 'fastify';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { OneLinePerRequest } from './http-app.js';

function capture(level: pino.Level): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

describe('OneLinePerRequest', () => {
  const apps: Array<ReturnType<typeof Fastify>> = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  async function appLogging(level: pino.Level) {
    const { logger, lines } = capture(level);
    const app = Fastify({ loggerInstance: logger, logController: new OneLinePerRequest() });
    apps.push(app);
    app.get('/ok', async () => ({ ok: true }));
    app.get('/down', async (_request, reply) => reply.code(503).send({ down: true }));
    app.get('/boom', async () => {
      throw new Error('boom');
    });
    await app.ready();
    return { app, lines };
  }

  it('writes one info line per request with method, url, status and time', async () => {
    const { app, lines } = await appLogging('info');
    await app.inject({ method: 'GET', url: '/ok' });
    const requestLines = lines.filter((line) => line.reqId !== undefined);
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({
      level: 30,
      msg: 'request completed',
      req: { method: 'GET', url: '/ok' },
      res: { statusCode: 200 },
    });
    expect(requestLines[0]?.responseTime).toEqual(expect.any(Number));
  });

  it('makes the line of a 5xx answer a warn line', async () => {
    const { app, lines } = await appLogging('info');
    await app.inject({ method: 'GET', url: '/down' });
    await app.inject({ method: 'GET', url: '/boom' });
    const levels = lines.filter((line) => line.msg === 'request completed' || line.msg === 'request errored');
    expect(levels.map((line) => [line.level, (line.res as { statusCode: number }).statusCode])).toEqual([
      [40, 503],
      [40, 500],
    ]);
  });

  it('honours the level: nothing at warn for a 200', async () => {
    const { app, lines } = await appLogging('warn');
    await app.inject({ method: 'GET', url: '/ok' });
    expect(lines).toEqual([]);
  });
});
