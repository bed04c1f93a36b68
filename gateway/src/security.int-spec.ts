import { connect } from 'node:net';
import { DOCS_CSP } from '@reward/server-kit/security-headers';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_AUDIENCE, TEST_ISSUER, useGatewayWithFakes } from './testing/gateway-harness.js';
import { type RawResponse, rawRequest } from './testing/raw-http.js';

// Runs without a database: the upstreams are fakes that record what reached them.
const gateway = useGatewayWithFakes();
const { signer, auth, event } = gateway;

afterEach(() => {
  auth.seen.length = 0;
  event.seen.length = 0;
});

const nested = (levels: number): string =>
  `{"email":"a@example.com","password":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}`;

function login(body: string, contentType: string): Promise<RawResponse> {
  return rawRequest(gateway.url, 'POST', '/auth/login', { headers: { 'content-type': contentType }, body });
}

describe('JSON depth at the gateway', () => {
  it('refuses a JSON body deeper than 32 levels with 400 JSON_TOO_DEEP before proxying it', async () => {
    for (const type of ['application/json', 'Application/JSON; charset=utf-8', 'application/merge-patch+json']) {
      const reply = await login(nested(1500), type);
      expect(reply.status).toBe(400);
      expect(reply.json()).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'JSON_TOO_DEEP' });
    }
    expect(auth.seen).toHaveLength(0);
  });

  it('refuses a JSON body of more than 100,000 values with 400 JSON_TOO_MANY_VALUES before proxying it', async () => {
    // 200 KB: only a route that needs a token takes a body that large (one that needs none takes 16 KB).
    const reply = await rawRequest(gateway.url, 'POST', '/activities', {
      headers: { 'content-type': 'application/json', authorization: `Bearer ${signer.sign({ roles: ['OPERATOR'] })}` },
      body: `{"items":[${'0,'.repeat(100_000)}0]}`,
    });
    expect(reply.status).toBe(400);
    expect(reply.json()).toMatchObject({ statusCode: 400, code: 'JSON_TOO_MANY_VALUES' });
    expect(event.seen).toHaveLength(0);
  });

  it('refuses a JSON object of more than 256 fields with 400 JSON_TOO_MANY_VALUES before proxying it', async () => {
    const fields = Array.from({ length: 257 }, (_, index) => `"f${index}":1`).join(',');
    const reply = await login(`{"email":"a@example.com","password":"password-123","extra":{${fields}}}`, 'application/json');
    expect(reply.status).toBe(400);
    expect(reply.json()).toMatchObject({ statusCode: 400, code: 'JSON_TOO_MANY_VALUES' });
    expect(auth.seen).toHaveLength(0);
  });

  it('refuses a JSON body over the size limit whose shape also breaks a bound (413) and keeps running', async () => {
    // Refused by its Content-Length before it is read: the rest of it still flows through the shape check,
    // whose error nobody then hears (it crashed the process, one unauthenticated request).
    const fields = Array.from({ length: 300 }, (_, index) => `"f${index}":1`).join(',');
    for (const body of [
      `{${fields},"pad":"${'x'.repeat(1_100_000)}"}`,
      `${'['.repeat(40)}${' '.repeat(1_100_000)}${']'.repeat(40)}`,
    ]) {
      const reply = await login(body, 'application/json');
      expect(reply.status).toBe(413);
      expect(reply.json()).toMatchObject({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE' });
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await login(nested(2), 'application/json')).status).toBe(200);
    expect(auth.seen).toHaveLength(1);
  });

  it('forwards a 32-level JSON body byte for byte', async () => {
    const body = nested(32);
    const reply = await login(body, 'application/json');
    expect(reply.status).toBe(200);
    expect(auth.seen).toHaveLength(1);
    expect(auth.seen[0]?.body).toBe(body);
  });

  it('forwards other media types as they came (the upstream decides about them)', async () => {
    const body = Buffer.concat([Buffer.from('['.repeat(2000)), Buffer.from([0, 255, 254])]);
    const reply = await rawRequest(gateway.url, 'POST', '/auth/login', {
      headers: { 'content-type': 'application/octet-stream' },
      body,
    });
    expect(reply.status).toBe(200);
    expect(auth.seen[0]?.bodyBase64).toBe(body.toString('base64'));
  });
});

describe('security headers at the gateway', () => {
  const expectSecurityHeaders = (reply: RawResponse): void => {
    expect(reply.headers['x-content-type-options']).toBe('nosniff');
    expect(reply.headers['x-frame-options']).toBe('DENY');
    expect(reply.headers['referrer-policy']).toBe('no-referrer');
    expect(reply.headers['strict-transport-security']).toBeUndefined();
  };

  it('on its own answers, its refusals and proxied answers; no-store unless the answer says otherwise', async () => {
    for (const path of ['/health', '/no-such-route', '/users/me', '/openapi.json']) {
      const reply = await rawRequest(gateway.url, 'GET', path, {});
      expectSecurityHeaders(reply);
      expect(reply.headers['content-security-policy']).toContain("default-src 'none'");
      expect(reply.headers['cache-control']).toBe('no-store');
    }
    const proxied = await rawRequest(gateway.url, 'GET', '/users/me', {
      headers: { authorization: `Bearer ${signer.sign({ roles: ['USER'] })}` },
    });
    expect(proxied.status).toBe(200);
    expectSecurityHeaders(proxied);
  });

  it('gives /docs the policy under which Swagger UI runs (same-origin scripts only, no inline script)', async () => {
    const page = await rawRequest(gateway.url, 'GET', '/docs', {});
    expect(page.status).toBe(200);
    expectSecurityHeaders(page);
    expect(page.headers['content-security-policy']).toBe(DOCS_CSP);
    expect(DOCS_CSP).toContain("script-src 'self'");
    expect(DOCS_CSP).not.toMatch(/script-src[^;]*unsafe-inline/);
    const asset = await rawRequest(gateway.url, 'GET', '/docs/swagger-ui-bundle.js', {});
    expect(asset.headers['cache-control']).toBe('public, max-age=3600');
  });
});

describe('access tokens at the gateway', () => {
  const me = (token: string) => rawRequest(gateway.url, 'GET', '/users/me', { headers: { authorization: `Bearer ${token}` } });

  it('refuses a genuine token without exp', async () => {
    const reply = await me(signer.sign({ roles: ['ADMIN'] }, { expiresInSeconds: null }));
    expect(reply.status).toBe(401);
    expect(reply.json()).toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED' });
    expect(auth.seen).toHaveLength(0);
  });

  it('does not tell the caller the expected issuer or audience', async () => {
    for (const token of [
      signer.sign({ roles: ['USER'] }, { issuer: 'someone-else' }),
      signer.sign({ roles: ['USER'] }, { audience: 'other' }),
    ]) {
      const reply = await me(token);
      expect(reply.status).toBe(401);
      expect(reply.text).not.toContain(TEST_ISSUER);
      expect(reply.text).not.toContain(TEST_AUDIENCE);
    }
  });
});

describe('the Host header at the gateway', () => {
  /** Raw bytes on one connection, read until the gateway closes it. */
  function rawBytes(bytes: string): Promise<string> {
    const { port } = new URL(gateway.url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write(bytes));
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
  }

  it('answers an HTTP/1.1 request without Host 400 with the error body, proxies nothing and closes the connection', async () => {
    for (const request of ['GET /health HTTP/1.1\r\n\r\n', 'POST /auth/login HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}']) {
      const answer = await rawBytes(request);
      const [head, body] = answer.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1.1 400 /);
      expect(head).toMatch(/\r\nconnection: close\r\n/i);
      expect(head).toMatch(/\r\nx-content-type-options: nosniff\r\n/i);
      expect(JSON.parse(body!)).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        code: 'MALFORMED_REQUEST',
        message: 'An HTTP/1.1 request must have a Host header',
      });
    }
    expect(auth.seen).toHaveLength(0);
    // HTTP/1.0 has no Host: still served.
    expect(await rawBytes('GET /health HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1.1 200 /);
  });

  it('answers a request with two Host lines (in any case) 400 with the error body, proxies nothing and closes the connection', async () => {
    const requests = [
      'GET /health HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n',
      'POST /auth/login HTTP/1.1\r\nHost: a.example\r\nContent-Length: 2\r\nhOST: b.example\r\n\r\n{}',
    ];
    for (const request of requests) {
      const answer = await rawBytes(request);
      const [head, body] = answer.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1.1 400 /);
      expect(head).toMatch(/\r\nconnection: close\r\n/i);
      expect(JSON.parse(body!)).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        code: 'MALFORMED_REQUEST',
        message: 'A request must have one Host header, not several',
      });
    }
    expect(auth.seen).toHaveLength(0);
    expect(await rawBytes('GET /health HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1.1 200 /);
  });
});
