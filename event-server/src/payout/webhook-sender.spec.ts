import type { LookupAddress, lookup as dnsLookup } from 'node:dns';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { guardedLookup, sendWebhook } from './webhook-sender.js';

/** A resolver that answers every name with these addresses. */
function resolvingTo(...addresses: string[]): typeof dnsLookup {
  const answer = addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  return ((_host: string, _options: unknown, callback: (e: null, a: LookupAddress[]) => void) =>
    callback(null, answer)) as unknown as typeof dnsLookup;
}

function lookUp(allowPrivate: boolean, ...addresses: string[]): Promise<{ error?: Error; address?: string }> {
  return new Promise((resolve) =>
    guardedLookup(allowPrivate, resolvingTo(...addresses))('receiver.example', {}, (error, address) =>
      resolve(error ? { error } : { address: address as string }),
    ),
  );
}

describe('the sender lookup', () => {
  it('refuses a name resolving to a metadata address in any form, even where private networks are allowed', async () => {
    for (const address of ['169.254.170.2', '100.100.100.200', '64:ff9b::a9fe:a9fe', '::a9fe:a9fe', 'fe80::a9fe:a9fe']) {
      const answer = await lookUp(true, '93.184.215.14', address);
      expect(answer.error?.message, address).toMatch(/^refused: .*metadata/);
    }
  });

  it('refuses private addresses (local-use NAT64 too) unless allowed, and passes public ones', async () => {
    expect((await lookUp(false, '64:ff9b:1::7f00:1')).error?.message).toMatch(/^refused: .*private/);
    expect(await lookUp(true, '64:ff9b:1::7f00:1')).toEqual({ address: '64:ff9b:1::7f00:1' });
    expect(await lookUp(false, '93.184.215.14')).toEqual({ address: '93.184.215.14' });
  });
});

describe('sending', () => {
  it('counts a 2xx as delivered once its status arrives, not when its body ends: a receiver that answered 200 and kept streaming was timed out, sent the webhook again and again, and its claim ended FAILED', async () => {
    const open = new Set<import('node:http').ServerResponse>();
    const receiver = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('accepted, working...');
      open.add(response); // the body is never ended
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = receiver.address() as AddressInfo;
      const result = await sendWebhook(`http://127.0.0.1:${port}/`, {}, '{}', { timeoutMs: 10_000, allowPrivate: true });
      expect(result).toMatchObject({ statusCode: 200 });
      expect(result.error).toBeUndefined();
    } finally {
      for (const response of open) response.destroy();
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    }
  }, 30_000);

  it("keeps an error answer's status (and its Retry-After) when its body does not end within the timeout", async () => {
    const open = new Set<import('node:http').ServerResponse>();
    const receiver = createServer((_request, response) => {
      response.writeHead(503, { 'retry-after': '120' });
      response.write('busy');
      open.add(response);
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = receiver.address() as AddressInfo;
      const result = await sendWebhook(`http://127.0.0.1:${port}/`, {}, '{}', { timeoutMs: 1_000, allowPrivate: true });
      expect(result).toMatchObject({ statusCode: 503, retryAfter: '120' });
      expect(result.error).toMatch(/^the receiver answered 503: busy/);
    } finally {
      for (const response of open) response.destroy();
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    }
  }, 30_000);

  it("keeps a NUL out of the attempt's error: a receiver answering one made the attempt unrecordable on FerretDB (PostgreSQL refuses it), and the relay sent again four times a second, never backing off", async () => {
    const receiver = createServer((_request, response) => {
      response.writeHead(500);
      response.end('bad\u0000thing');
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = receiver.address() as AddressInfo;
      const result = await sendWebhook(`http://127.0.0.1:${port}/`, {}, '{}', { timeoutMs: 2000, allowPrivate: true });
      expect(result.statusCode).toBe(500);
      expect(result.error).toMatch(/^the receiver answered 500: bad.thing$/);
      expect(result.error).not.toContain('\u0000');
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it("keeps the endpoint's path and query out of the attempt's error when the receiver echoes them (Express: 'Cannot POST /path'): they often hold its token, and OPERATORs and AUDITORs read the error, not the endpoint", async () => {
    const receiver = createServer((request, response) => {
      response.writeHead(404);
      // As Express words it: the URL HTML-escaped.
      response.end(`Cannot POST ${request.url?.replaceAll('&', '&amp;')}`);
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = receiver.address() as AddressInfo;
      const url = `http://127.0.0.1:${port}/services/T0/B0/s3cr3tPath?token=s3cr3tQuery&v=2`;
      const result = await sendWebhook(url, {}, '{}', { timeoutMs: 2000, allowPrivate: true });
      expect(result.statusCode).toBe(404);
      expect(result.error).toMatch(/^the receiver answered 404: Cannot POST /);
      expect(result.error).not.toMatch(/s3cr3t/);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it("keeps them out when the receiver echoes them decoded (a framework's 'no route for /path', its query parsed)", async () => {
    const receiver = createServer((request, response) => {
      const target = new URL(request.url ?? '/', 'http://receiver');
      response.writeHead(404);
      // Percent-decoded, and the query's values form-decoded (`+` a space), as many frameworks report them.
      response.end(`no route for ${decodeURIComponent(target.pathname)} token=${target.searchParams.get('token')}`);
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = receiver.address() as AddressInfo;
      const url = `http://127.0.0.1:${port}/hooks/s%65cr3tPathXYZ?token=tok%2Bs3cr3t+value`;
      const result = await sendWebhook(url, {}, '{}', { timeoutMs: 2000, allowPrivate: true });
      expect(result.statusCode).toBe(404);
      expect(result.error).toMatch(/^the receiver answered 404: no route for /);
      expect(result.error).not.toMatch(/s3cr3t|secr3t|scr3t/);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
