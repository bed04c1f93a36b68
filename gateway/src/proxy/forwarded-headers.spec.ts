import { describe, expect, it } from 'vitest';
import { downstreamHeaders, isSpoofableHeader, upstreamHeaders, vouchedClientIp } from './forwarded-headers.js';
import { RESENT_AFTER_DROP_HEADER } from '@reward/server-kit/resent-after-drop';
import { START_BY_HEADER } from '@reward/server-kit/start-by';

describe('isSpoofableHeader', () => {
  it('catches every header a client could use to claim an identity, an address or an original URL', () => {
    for (const name of [
      'x-user',
      'x-user-id',
      'X-User-Roles',
      'x-roles',
      'x-role',
      'x-auth-user',
      'x-auth-request-email',
      'x-authenticated-userid',
      'x-forwarded-user',
      'x-forwarded-email',
      'x-forwarded-for',
      'x-forwarded-host',
      'x-forwarded-proto',
      'forwarded',
      'x-real-ip',
      'x-client-ip',
      'true-client-ip',
      'x-remote-user',
      'remote-user',
      'x-original-url',
      'x-rewrite-url',
      'x-internal-token',
      // Only the gateway marks a claim it resent after a drop: a client's mark would skip the claims gate.
      RESENT_AFTER_DROP_HEADER,
      // Only the gateway says until when an upstream may start on a request: a client's would move it.
      START_BY_HEADER,
    ]) {
      expect(isSpoofableHeader(name), name).toBe(true);
    }
  });

  it('leaves ordinary headers alone', () => {
    for (const name of [
      'authorization',
      'content-type',
      'accept',
      'idempotency-key',
      'x-request-id',
      'user-agent',
      'x-users',
      'x-custom',
    ]) {
      expect(isSpoofableHeader(name), name).toBe(false);
    }
  });
});

describe('upstreamHeaders', () => {
  const facts = { requestId: 'req-12345678', clientIp: '203.0.113.9', bodyLength: 2, startBy: '1796300000000' };

  it('strips spoofable headers, keeps the rest and sets what the gateway vouches for', () => {
    const headers = upstreamHeaders(
      {
        authorization: 'Bearer t',
        'content-type': 'application/json',
        'x-user-id': 'admin',
        'x-roles': 'ADMIN',
        'x-forwarded-for': '1.2.3.4',
        'x-request-id': 'client-chosen-id',
        'idempotency-key': 'k1',
        [START_BY_HEADER]: '9999999999999',
      },
      facts,
    );
    expect(headers).toEqual({
      authorization: 'Bearer t',
      'content-type': 'application/json',
      'idempotency-key': 'k1',
      'x-request-id': 'req-12345678',
      'x-forwarded-for': '203.0.113.9',
      [START_BY_HEADER]: '1796300000000',
      'content-length': '2',
    });
  });

  it('frames a buffered body by its length and drops framing for a body that is not forwarded', () => {
    expect(upstreamHeaders({ 'transfer-encoding': 'chunked' }, facts)).toMatchObject({ 'content-length': '2' });
    expect(upstreamHeaders({ 'transfer-encoding': 'chunked' }, facts)['transfer-encoding']).toBeUndefined();
    const bodiless = upstreamHeaders({ 'content-length': '5' }, { ...facts, bodyLength: undefined });
    expect(bodiless['content-length']).toBeUndefined();
  });

  it("never forwards the client's connection headers: hop-by-hop, Expect, and those its Connection header names", () => {
    const headers = upstreamHeaders(
      {
        accept: 'application/json',
        connection: 'keep-alive, X-Hop',
        'keep-alive': 'timeout=5',
        'x-hop': '1',
        upgrade: 'websocket',
        te: 'trailers',
        trailer: 'x-sum',
        'proxy-connection': 'keep-alive',
        expect: '100-continue',
      },
      { ...facts, bodyLength: undefined },
    );
    expect(headers).toEqual({
      accept: 'application/json',
      'x-request-id': 'req-12345678',
      'x-forwarded-for': '203.0.113.9',
      [START_BY_HEADER]: '1796300000000',
    });
  });
});

describe('upstreamHeaders, names judged once each', () => {
  it('judges a name alike the first time and every time after, also once many made-up names came first', () => {
    const facts = { requestId: 'req-1', clientIp: '203.0.113.9', bodyLength: undefined, startBy: undefined };
    const sent = { accept: 'application/json', 'x-user-id': 'admin', 'X-Forwarded-Host': 'evil', 'x-custom': '1' };
    const expected = { accept: 'application/json', 'x-custom': '1', 'x-request-id': 'req-1', 'x-forwarded-for': '203.0.113.9' };
    expect(upstreamHeaders(sent, facts)).toEqual(expected);
    expect(upstreamHeaders(sent, facts)).toEqual(expected);
    // More names than are remembered, spoofable ones among them: each is still judged by the rule.
    for (let index = 0; index < 1_000; index++) {
      const made = upstreamHeaders({ [`x-made-${index}`]: 'v', [`x-user-${index}`]: 'admin' }, facts);
      expect(Object.keys(made)).toEqual([`x-made-${index}`, 'x-request-id', 'x-forwarded-for']);
    }
    expect(upstreamHeaders({ ...sent, 'x-roles': 'ADMIN', 'x-late': '2' }, facts)).toEqual({ ...expected, 'x-late': '2' });
  });
});

describe('upstreamHeaders, a remembered name', () => {
  const facts = { requestId: 'req-2', clientIp: '203.0.113.9', bodyLength: undefined, startBy: undefined };

  it('is still dropped where the Connection header names it, and a spoofable one in any case or repeated', () => {
    expect(upstreamHeaders({ 'x-trace': 'a' }, facts)).toHaveProperty('x-trace', 'a');
    // Remembered as forwarded, then named by a request's Connection header: not forwarded on that request.
    const named = upstreamHeaders({ connection: 'close, X-Trace', 'x-trace': 'a' }, facts);
    expect(named).not.toHaveProperty('x-trace');
    expect(upstreamHeaders({ 'x-trace': 'b' }, facts)).toHaveProperty('x-trace', 'b');
    for (let round = 0; round < 2; round++) {
      const sent = { 'X-USER-ID': 'admin', 'x-user-id': ['admin', 'root'], 'X-Forwarded-Host': 'evil', FORWARDED: 'for=1.2.3.4' };
      expect(Object.keys(upstreamHeaders(sent, facts))).toEqual(['x-request-id', 'x-forwarded-for']);
    }
  });

  it('that is a property of every object (__proto__, constructor) is judged as any other name', () => {
    const sent = JSON.parse('{"__proto__": "x", "constructor": "y", "x-roles": "ADMIN"}') as Record<string, string>;
    for (let round = 0; round < 2; round++) {
      const passed = upstreamHeaders(sent, facts);
      expect(Object.getPrototypeOf(passed)).toBe(Object.prototype);
      expect(passed).toHaveProperty('constructor', 'y');
      expect(passed).not.toHaveProperty('x-roles');
    }
  });
});

describe('downstreamHeaders', () => {
  it('drops the hop-by-hop headers and those the Connection header names (any case), keeps the rest', () => {
    const answer = {
      'content-type': 'application/json',
      connection: 'keep-alive, X-Hop , Upgrade',
      'keep-alive': 'timeout=72',
      'x-hop': '1',
      upgrade: 'h2c',
      te: 'trailers',
      trailer: 'x-sum',
      'proxy-connection': 'keep-alive',
      'x-request-id': 'r1',
      'set-cookie': ['a=1', 'b=2'],
    };
    expect(downstreamHeaders(answer)).toEqual({
      'content-type': 'application/json',
      'x-request-id': 'r1',
      'set-cookie': ['a=1', 'b=2'],
    });
    expect(downstreamHeaders({ connection: 'close', 'x-end': 'kept' })).toEqual({ 'x-end': 'kept' });
    expect(answer['x-hop']).toBe('1');
  });
});

describe('vouchedClientIp', () => {
  it("vouches for request.ip when it is an IP address, else for the peer's own (a trusted proxy that passed junk on)", () => {
    expect(vouchedClientIp('203.0.113.9', '10.0.0.5')).toBe('203.0.113.9');
    expect(vouchedClientIp('2001:db8::7', '10.0.0.5')).toBe('2001:db8::7');
    // A port some proxies add is dropped, the address kept.
    expect(vouchedClientIp('203.0.113.9:5555', '10.0.0.5')).toBe('203.0.113.9');
    expect(vouchedClientIp('[2001:db8::7]:5555', '10.0.0.5')).toBe('2001:db8::7');
    expect(vouchedClientIp('[2001:db8::7]', '10.0.0.5')).toBe('2001:db8::7');
    for (const junk of ['foo', '999.1.1.1', '999.1.1.1:80', '[nope]:80', '1.2.3.4:5555:6', '', 'x'.repeat(3_000)]) {
      expect(vouchedClientIp(junk, '10.0.0.5')).toBe('10.0.0.5');
    }
  });
});
