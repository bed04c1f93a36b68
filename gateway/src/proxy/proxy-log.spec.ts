import { Writable } from 'node:stream';
import { droppingMessages } from '@reward/server-kit/http-app';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { REPLY_FROM_FAILURE_MESSAGE } from './gateway-proxy.js';

describe("the gateway's logger", () => {
  it("drops reply-from's stack-carrying failure line and keeps everything else, child bindings included", () => {
    const lines: Array<Record<string, unknown>> = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    });
    const log = pino({ level: 'info', hooks: { logMethod: droppingMessages([REPLY_FROM_FAILURE_MESSAGE]) } }, stream);
    log.warn(new Error('headers timeout'), 'response errored');
    log.child({ reqId: 'r1' }).warn(new Error('connect refused'), 'response errored');
    log.warn('something else');
    log.child({ upstream: 'event', code: 'UPSTREAM_TIMEOUT' }).warn({ res: { statusCode: 504 } }, 'request completed');
    expect(lines.map((line) => [line.msg, line.upstream, line.code, line.err])).toEqual([
      ['something else', undefined, undefined, undefined],
      ['request completed', 'event', 'UPSTREAM_TIMEOUT', undefined],
    ]);
  });
});
