import { describe, expect, it } from 'vitest';
import { NoReplicaError } from './replica-pool.js';
import { rootCodeOf, upstreamFailure } from './upstream-failure.js';

function failure(code: string, wrapped = true): Error {
  const cause = Object.assign(new Error('low level'), { code });
  return wrapped ? Object.assign(new Error('reply-from'), { code: 'FST_REPLY_FROM_INTERNAL_SERVER_ERROR', cause }) : cause;
}

describe('upstreamFailure', () => {
  it('answers 503 UPSTREAM_UNAVAILABLE when the upstream cannot be reached, with Retry-After', () => {
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'GW_NO_REPLICA']) {
      const { status, body, headers } = upstreamFailure(failure(code), 'auth', 10_000, 5_000);
      expect(status, code).toBe(503);
      expect(body).toMatchObject({
        statusCode: 503,
        code: 'UPSTREAM_UNAVAILABLE',
        message: 'auth server is unavailable',
        retryAfterSeconds: 5,
      });
      expect(headers, code).toEqual({ 'retry-after': '5' });
    }
  });

  it('answers 503 UPSTREAM_UNAVAILABLE when every replica is frozen (none was sent the request)', () => {
    expect(upstreamFailure(new NoReplicaError(), 'event', 10_000, 5_000)).toMatchObject({
      status: 503,
      body: { code: 'UPSTREAM_UNAVAILABLE' },
      headers: { 'retry-after': '5' },
    });
  });

  it('tells the client to come back after the replica cooldown, in whole seconds and at least one', () => {
    for (const [cooldownMs, seconds] of [
      [1_500, '2'],
      [2_000, '2'],
      [1, '1'],
      [0, '1'],
      [600_000, '600'],
    ] as const) {
      expect(upstreamFailure(failure('ECONNREFUSED'), 'event', 10_000, cooldownMs).headers, String(cooldownMs)).toEqual({
        'retry-after': seconds,
      });
    }
  });

  it('answers 504 UPSTREAM_TIMEOUT when the upstream is too slow', () => {
    for (const code of ['UND_ERR_HEADERS_TIMEOUT', 'FST_REPLY_FROM_GATEWAY_TIMEOUT']) {
      const { status, body, headers } = upstreamFailure(failure(code, false), 'event', 500, 5_000);
      expect(status, code).toBe(504);
      expect(headers).toEqual({});
      expect(body).toMatchObject({ code: 'UPSTREAM_TIMEOUT', message: 'event server did not answer within 500 ms' });
    }
  });

  it('answers 502 for anything else, never 500', () => {
    for (const error of [failure('ECONNRESET'), failure('UND_ERR_SOCKET'), new Error('odd'), 'not even an error']) {
      const { status, body, headers } = upstreamFailure(error, 'auth', 10_000, 5_000);
      expect(status).toBe(502);
      expect(headers).toEqual({});
      expect(body).toMatchObject({ statusCode: 502, error: 'Bad Gateway', code: 'UPSTREAM_ERROR' });
    }
  });

  it('answers a keyed claim that may have been received 409 IDEMPOTENCY_IN_PROGRESS with Retry-After; one never received 503', () => {
    for (const error of [failure('UND_ERR_HEADERS_TIMEOUT', false), failure('ECONNRESET'), new Error('odd')]) {
      const { status, body, headers } = upstreamFailure(error, 'event', 500, 5_000, true);
      expect(status).toBe(409);
      expect(headers).toEqual({ 'retry-after': '1' });
      expect(body).toMatchObject({ statusCode: 409, code: 'IDEMPOTENCY_IN_PROGRESS', retryAfterSeconds: 1 });
    }
    expect(upstreamFailure(failure('UND_ERR_HEADERS_TIMEOUT', false), 'event', 500, 5_000, true).body.message).toMatch(
      /^event server did not answer within 500 ms: /,
    );
    expect(upstreamFailure(failure('ECONNREFUSED'), 'event', 500, 5_000, true)).toMatchObject({
      status: 503,
      body: { code: 'UPSTREAM_UNAVAILABLE' },
    });
  });

  it('answers 503 with Retry-After when the gateway is out of file descriptors: nothing was sent, a keyed claim too', () => {
    for (const code of ['EMFILE', 'ENFILE']) {
      for (const keyed of [false, true]) {
        const { status, body, headers } = upstreamFailure(failure(code), 'event', 10_000, 5_000, keyed);
        expect(status, code).toBe(503);
        expect(headers).toEqual({ 'retry-after': '1' });
        expect(body).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 1 });
        expect(body.message).toMatch(/nothing was sent/);
      }
    }
  });

  it('names the code a failure began with (for the log line)', () => {
    expect(rootCodeOf(failure('EMFILE'))).toBe('EMFILE');
    expect(rootCodeOf(new Error('odd'))).toBeUndefined();
  });
});
