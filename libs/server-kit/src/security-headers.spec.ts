import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { DOCS_CSP, answerHeadersFor, installSecurityHeaders, securityHeadersFor } from './security-headers.js';

describe('security headers', () => {
  const apps: Array<ReturnType<typeof Fastify>> = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  async function appWith(hstsMaxAgeSeconds: number) {
    const app = Fastify();
    apps.push(app);
    installSecurityHeaders(app, answerHeadersFor({ hstsMaxAgeSeconds }));
    app.get('/ok', async () => ({ ok: true }));
    app.get('/cached', async (_request, reply) => reply.header('cache-control', 'public, max-age=60').send('x'));
    app.get('/docs/page', async () => 'page');
    app.get('/framed', async (_request, reply) => {
      const seen = { frameOptions: reply.getHeader('x-frame-options'), has: reply.hasHeader('X-Content-Type-Options') };
      return reply.removeHeader('x-frame-options').header('cross-origin-resource-policy', 'cross-origin').send(seen);
    });
    app.addHook('preHandler', async (request, reply) => {
      if (request.url === '/refused') return reply.code(401).send({ refused: true });
    });
    app.get('/refused', async () => 'never');
    await app.ready();
    return app;
  }

  it("are helmet's headers for an API: nothing loads, nothing frames, no referrer, no HSTS unless configured", () => {
    const headers = securityHeadersFor({ hstsMaxAgeSeconds: 0 });
    expect(headers).toMatchObject({
      'content-security-policy': "default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'",
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
    });
    expect(headers).not.toHaveProperty('strict-transport-security');
    expect(headers).not.toHaveProperty('cross-origin-embedder-policy');
    expect(securityHeadersFor({ hstsMaxAgeSeconds: 86_400 })['strict-transport-security']).toBe(
      'max-age=86400; includeSubDomains',
    );
  });

  it('are on every answer, a refusal included, with no-store unless the route caches', async () => {
    const app = await appWith(0);
    for (const url of ['/ok', '/refused', '/missing']) {
      const reply = await app.inject({ method: 'GET', url });
      expect(reply.headers).toMatchObject({
        'content-security-policy': "default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'",
        'cross-origin-resource-policy': 'same-origin',
        'referrer-policy': 'no-referrer',
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'cache-control': 'no-store',
      });
      // Headers that act only on an HTML document (or IE8, or Flash) are left to the /docs pages.
      for (const documentOnly of [
        'cross-origin-opener-policy',
        'origin-agent-cluster',
        'x-xss-protection',
        'x-download-options',
      ]) {
        expect(reply.headers).not.toHaveProperty(documentOnly);
      }
    }
    expect((await app.inject({ method: 'GET', url: '/cached' })).headers['cache-control']).toBe('public, max-age=60');
  });

  it("are the reply's headers to read, replace or remove, like any the route sets itself", async () => {
    const app = await appWith(0);
    const reply = await app.inject({ method: 'GET', url: '/framed' });
    expect(reply.json()).toEqual({ frameOptions: 'DENY', has: true });
    expect(reply.headers['x-frame-options']).toBeUndefined();
    expect(reply.headers['cross-origin-resource-policy']).toBe('cross-origin');
    expect(reply.headers['x-content-type-options']).toBe('nosniff');
  });

  it("give Swagger UI's pages their own CSP and all of helmet's headers", async () => {
    const app = await appWith(0);
    const page = await app.inject({ method: 'GET', url: '/docs/page' });
    expect(page.headers).toMatchObject({
      ...securityHeadersFor({ hstsMaxAgeSeconds: 0 }),
      'content-security-policy': DOCS_CSP,
      'cache-control': 'no-store',
    });
  });

  it('carry HSTS on API answers and pages alike when it is configured', () => {
    const { api, docs } = answerHeadersFor({ hstsMaxAgeSeconds: 86_400 });
    const hsts = ['strict-transport-security', 'max-age=86400; includeSubDomains'];
    expect(api).toContainEqual(hsts);
    expect(docs).toContainEqual(hsts);
  });
});
