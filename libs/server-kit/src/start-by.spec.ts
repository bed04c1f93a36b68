import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import {
  LATE_RESEND_MESSAGE,
  LATE_START_MESSAGE,
  LateStarts,
  START_BY_HEADER,
  START_BY_PLAUSIBLE_MS,
  msLeftToStart,
  refuseLateStarts,
  refuseWriteAfterStartBy,
  startByOf,
  startByValue,
} from './start-by.js';
import { RESENT_AFTER_DROP_HEADER } from './resent-after-drop.js';

describe('start-by time', () => {
  it('is half the timeout after the gateway sends the request', () => {
    expect(startByValue(1_000_000, 10_000)).toBe('1005000');
    expect(startByValue(1_000_000, 101)).toBe('1000050');
  });

  it('is read as the ms left before it, negative once past', () => {
    expect(msLeftToStart({ [START_BY_HEADER]: '1005000' }, 1_000_000)).toBe(5_000);
    expect(msLeftToStart({ [START_BY_HEADER]: '1005000' }, 1_005_000)).toBe(0);
    expect(msLeftToStart({ [START_BY_HEADER]: '1005000' }, 1_006_000)).toBe(-1_000);
  });

  it('sets no limit when absent or malformed', () => {
    for (const value of [
      undefined,
      '',
      ' 1005000',
      '1005000.5',
      '-5',
      '1e6',
      '0x10',
      '1234567890123456',
      ['1005000', '1005000'],
    ]) {
      expect(msLeftToStart({ [START_BY_HEADER]: value }, 1_000_000), JSON.stringify(value)).toBeUndefined();
    }
  });

  it('sets no limit when further from now than any start-by the gateway sets (a direct caller, a clock far off)', () => {
    const now = 1_764_800_000_000;
    // The furthest the gateway goes: half the largest upstream timeout ahead, the whole of it behind.
    expect(msLeftToStart({ [START_BY_HEADER]: String(now + 150_000) }, now)).toBe(150_000);
    expect(msLeftToStart({ [START_BY_HEADER]: String(now - 300_000) }, now)).toBe(-300_000);
    expect(msLeftToStart({ [START_BY_HEADER]: String(now + START_BY_PLAUSIBLE_MS) }, now)).toBe(START_BY_PLAUSIBLE_MS);
    expect(msLeftToStart({ [START_BY_HEADER]: String(now - START_BY_PLAUSIBLE_MS) }, now)).toBe(-START_BY_PLAUSIBLE_MS);
    for (const value of [
      '0',
      '1',
      String(now - START_BY_PLAUSIBLE_MS - 1),
      String(now + START_BY_PLAUSIBLE_MS + 1),
      '999999999999999',
    ]) {
      expect(msLeftToStart({ [START_BY_HEADER]: value }, now), value).toBeUndefined();
    }
  });
});

describe('a write that waited since its arrival', () => {
  it('reads the start-by time as an epoch time, none when the header sets no limit', () => {
    const now = 1_796_300_000_000;
    expect(startByOf({ [START_BY_HEADER]: String(now + 5_000) }, now)).toBe(now + 5_000);
    expect(startByOf({ [START_BY_HEADER]: String(now - 1) }, now)).toBe(now - 1);
    for (const headers of [{}, { [START_BY_HEADER]: '0' }, { [START_BY_HEADER]: 'soon' }]) {
      expect(startByOf(headers, now), JSON.stringify(headers)).toBeUndefined();
    }
  });

  it('is refused 503 SERVICE_UNAVAILABLE with Retry-After once the time has passed, and never without one', () => {
    expect(() => refuseWriteAfterStartBy(1_000, 999)).not.toThrow();
    expect(() => refuseWriteAfterStartBy(undefined, 1_000)).not.toThrow();
    for (const now of [1_000, 1_001]) {
      expect(() => refuseWriteAfterStartBy(1_000, now)).toThrow(
        expect.objectContaining({ status: 503, code: 'SERVICE_UNAVAILABLE', details: { retryAfterSeconds: 1 } }),
      );
    }
  });
});

describe('refuseLateStarts', () => {
  async function serve(except?: string[]): Promise<FastifyInstance> {
    const app = Fastify();
    refuseLateStarts(app, { except });
    const done: string[] = [];
    app.decorate('done', done);
    for (const method of ['GET', 'POST', 'PATCH', 'DELETE'] as const) {
      app.route({
        method,
        url: '/things/:id',
        handler: async (request) => (done.push(`${method} ${request.url}`), { ok: true }),
      });
    }
    app.post('/own', async () => (done.push('POST /own'), { ok: true }));
    await app.ready();
    return app;
  }
  const doneOf = (app: FastifyInstance) => (app as unknown as { done: string[] }).done;

  it('answers a write past its start-by time 503 with Retry-After, before its handler runs', async () => {
    const app = await serve();
    const past = String(Date.now() - 1);
    for (const method of ['POST', 'PATCH', 'DELETE'] as const) {
      const response = await app.inject({ method, url: '/things/1', headers: { [START_BY_HEADER]: past }, payload: { a: 1 } });
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('1');
      expect(response.headers.connection).toBe('close');
      expect(response.json()).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE', message: LATE_START_MESSAGE });
    }
    expect(doneOf(app)).toEqual([]);
    await app.close();
  });

  it('does not say "nothing was done" of a request the gateway sent on after another replica dropped it', async () => {
    const app = await serve();
    const response = await app.inject({
      method: 'POST',
      url: '/things/1',
      headers: { [START_BY_HEADER]: String(Date.now() - 1), [RESENT_AFTER_DROP_HEADER]: '1' },
    });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: LATE_RESEND_MESSAGE });
    expect(response.json().message).toMatch(/may have acted on it/);
    expect(doneOf(app)).toEqual([]);
    await app.close();
  });

  it('says so in one warning line for a spell of refusals, with how many and the latest, not one per request', async () => {
    const lines: string[] = [];
    const app = Fastify({ loggerInstance: pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) }) });
    refuseLateStarts(app as unknown as FastifyInstance);
    app.post('/things', async () => ({ ok: true }));
    await app.ready();
    for (const lateMs of [5, 900, 40]) {
      const response = await app.inject({
        method: 'POST',
        url: '/things',
        headers: { [START_BY_HEADER]: String(Date.now() - lateMs) },
      });
      expect(response.statusCode).toBe(503);
    }
    const warnings = lines.map((line) => JSON.parse(line) as { msg: string; refused: number; mostLateMs: number });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ refused: 1, msg: expect.stringMatching(/past their start-by time/) });
    expect(warnings[0]!.mostLateMs).toBeGreaterThanOrEqual(5);
    await app.close();
  });

  it('lets through reads, writes within their time, writes without one, and the routes that judge it themselves', async () => {
    const app = await serve(['/own']);
    const past = String(Date.now() - 1);
    const future = String(Date.now() + 60_000);
    const answers = [
      await app.inject({ method: 'GET', url: '/things/1', headers: { [START_BY_HEADER]: past } }),
      await app.inject({ method: 'POST', url: '/things/2', headers: { [START_BY_HEADER]: future } }),
      await app.inject({ method: 'POST', url: '/things/3' }),
      await app.inject({ method: 'POST', url: '/things/4', headers: { [START_BY_HEADER]: '0' } }),
      await app.inject({ method: 'POST', url: '/own', headers: { [START_BY_HEADER]: past } }),
    ];
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200, 200, 200]);
    expect(doneOf(app)).toEqual(['GET /things/1', 'POST /things/2', 'POST /things/3', 'POST /things/4', 'POST /own']);
    await app.close();
  });
});

describe('LateStarts', () => {
  it('reports the requests counted since the last warning, and the most any was late, at most every interval', () => {
    const late = new LateStarts(1_000);
    const start = Date.now();
    expect(late.note(5, start)).toEqual({ count: 1, worstMs: 5 });
    expect(late.note(900, start + 10)).toBeUndefined();
    expect(late.note(40, start + 500)).toBeUndefined();
    expect(late.note(7, start + 1_000)).toEqual({ count: 3, worstMs: 900 });
    expect(late.note(1, start + 1_001)).toBeUndefined();
  });
});
