import { Writable } from 'node:stream';
import Fastify from 'fastify';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { installAccessLog } from './access-log.js';

async function linesFor(level: string): Promise<Array<Record<string, unknown>>> {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const app = Fastify({ loggerInstance: pino({ level }, sink) });
  await app.register(async (scope) => {
    installAccessLog(scope, app.log);
    scope.get('/proxied/:id', async (request, reply) => {
      request.log.warn('a warning still gets through');
      return reply.code(418).send({ ok: true });
    });
  });
  app.get('/own', async () => ({ ok: true }));
  await app.ready();
  await app.inject({ method: 'GET', url: '/proxied/1?x=y' });
  await app.inject({ method: 'GET', url: '/own' });
  await app.close();
  return lines;
}

describe('installAccessLog', () => {
  it('writes one line per request of its scope at info, with what an access log needs, and keeps warnings', async () => {
    const lines = await linesFor('info');
    const proxied = lines.filter((line) => (line.req as { url?: string } | undefined)?.url === '/proxied/1?x=y');
    expect(proxied).toEqual([
      expect.objectContaining({
        msg: 'request completed',
        reqId: expect.any(String),
        req: expect.objectContaining({ method: 'GET', url: '/proxied/1?x=y' }),
        res: { statusCode: 418 },
        responseTime: expect.any(Number),
      }),
    ]);
    expect(lines.filter((line) => line.msg === 'a warning still gets through')).toHaveLength(1);
    // Routes outside the scope keep Fastify's own two lines.
    expect(lines.filter((line) => line.msg === 'incoming request')).toHaveLength(1);
  });

  it('leaves other levels alone', async () => {
    const lines = await linesFor('debug');
    expect(lines.filter((line) => line.msg === 'incoming request')).toHaveLength(2);
    expect(await linesFor('warn')).toEqual([expect.objectContaining({ msg: 'a warning still gets through' })]);
  });
});
