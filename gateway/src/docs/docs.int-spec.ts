import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useGatewayWithFakes } from '../testing/gateway-harness.js';
import { rawRequest } from '../testing/raw-http.js';
import { MERGED_OPENAPI_FILE } from './openapi-file.js';

// The upstreams here are fakes that never see these requests: the gateway serves its docs on its own.
const gateway = useGatewayWithFakes();
const { event } = gateway;

describe('GET /openapi.json', () => {
  it('is the committed merged document, without a token', async () => {
    const before = event.seen.length;
    const response = await rawRequest(gateway.url, 'GET', '/openapi.json');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const committed = JSON.parse(readFileSync(MERGED_OPENAPI_FILE, 'utf8')) as { servers: unknown[] };
    // But for its first server: the gateway it came from, on its own address and port, then the committed one.
    const { host } = new URL(gateway.url);
    expect(response.json()).toEqual({
      ...committed,
      servers: [{ url: `http://${host}`, description: expect.stringMatching(/This gateway/) }, ...committed.servers],
    });
    expect(event.seen.length).toBe(before);
  });

  it('names no host it was not asked by a plain name: anything else gets the committed servers', async () => {
    const committed = JSON.parse(readFileSync(MERGED_OPENAPI_FILE, 'utf8')) as { servers: unknown[] };
    // Nor one that is no URL's host: a port past 65535 or a bracketed address that is no IPv6 address (a client
    // generated from the document would call http://h:99999 and fail with "Invalid URL").
    for (const host of ['evil.example/path', 'a b', 'x"y', 'h:99999999', 'h:99999', 'h:65536', '[::1::::]', '[1.2.3.4]']) {
      const response = await rawRequest(gateway.url, 'GET', '/openapi.json', { headers: { host } });
      expect(response.status, host).toBe(200);
      expect(response.json<{ servers: unknown[] }>().servers, host).toEqual(committed.servers);
    }
    const named = await rawRequest(gateway.url, 'GET', '/openapi.json', { headers: { host: 'api.example.com:8443' } });
    // It differs by the host it was asked by: no cache keeps one client's copy for another.
    expect(named.headers['cache-control']).toBe('no-store');
    expect(named.headers.vary).toBe('Host, X-Forwarded-Host, X-Forwarded-Proto');
    expect(named.json<{ servers: unknown[] }>().servers[0]).toMatchObject({ url: 'http://api.example.com:8443' });
  });
});

describe('GET /docs', () => {
  it('is Swagger UI, loading its files from the gateway itself', async () => {
    const page = await rawRequest(gateway.url, 'GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const sources = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] as string);
    expect(sources.length).toBeGreaterThanOrEqual(3);
    for (const source of sources) {
      expect(source.startsWith('/docs/'), source).toBe(true);
      const asset = await rawRequest(gateway.url, 'GET', source);
      expect(asset.status, source).toBe(200);
    }
    const init = await rawRequest(gateway.url, 'GET', '/docs/docs-init.js');
    expect(init.text).toContain("fetch('/openapi.json')");
    expect(init.text).toContain('window.location.origin');
    // A token typed into the page is not kept in the browser's storage past the tab.
    expect(init.text).toContain('persistAuthorization: false');
    expect(init.text).toContain("localStorage.removeItem('authorized')");
  });

  it('is the same page at /docs/, and that opens no other path with a trailing slash', async () => {
    const page = await rawRequest(gateway.url, 'GET', '/docs/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toBe((await rawRequest(gateway.url, 'GET', '/docs')).text);
    for (const path of ['/docs//', '/openapi.json/', '/health/', '/docs/swagger-ui.css/', '/docs/docs-init.js/']) {
      const response = await rawRequest(gateway.url, 'GET', path);
      expect(response.status, path).toBe(404);
      expect(response.json(), path).toMatchObject({ statusCode: 404, code: 'ROUTE_NOT_FOUND' });
    }
  });

  it('serves only the UI files: anything else under /docs is a 404 with the error body', async () => {
    for (const path of ['/docs/package.json', '/docs/..%2Fpackage.json', '/docs/index.html', '/docs/favicon-16x16.png']) {
      const response = await rawRequest(gateway.url, 'GET', path);
      expect(response.status, path).toBe(404);
      expect(response.json(), path).toMatchObject({ statusCode: 404 });
    }
  });
});
