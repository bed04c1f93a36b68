import { readFileSync } from 'node:fs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenForge } from '../../../test-support/tokens.js';
import { FakeUpstream } from '../testing/fake-upstream.js';
import { TEST_AUDIENCE, TEST_ISSUER, fakeAuthServer, startGateway } from '../testing/gateway-harness.js';
import { rawRequest } from '../testing/raw-http.js';
import { MERGED_OPENAPI_FILE } from './openapi-file.js';

// The upstreams here are fakes that never see these requests: the gateway serves its docs on its own.
const signer = TokenForge.generate({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE });
const auth = fakeAuthServer(signer);
const event = new FakeUpstream();
let app: NestFastifyApplication;
let gateway: string;

beforeAll(async () => {
  await Promise.all([auth.start(), event.start()]);
  ({ app, url: gateway } = await startGateway({ auth: auth.url, event: event.url, jwks: auth.url }));
});

afterAll(async () => {
  await app.close();
  await Promise.all([auth.stop(), event.stop()]);
});

describe('GET /openapi.json', () => {
  it('is the committed merged document, without a token', async () => {
    const before = event.seen.length;
    const response = await rawRequest(gateway, 'GET', '/openapi.json');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual(JSON.parse(readFileSync(MERGED_OPENAPI_FILE, 'utf8')));
    expect(event.seen.length).toBe(before);
  });
});

describe('GET /docs', () => {
  it('is Swagger UI, loading its files from the gateway itself', async () => {
    const page = await rawRequest(gateway, 'GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const sources = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] as string);
    expect(sources.length).toBeGreaterThanOrEqual(3);
    for (const source of sources) {
      expect(source.startsWith('/docs/'), source).toBe(true);
      const asset = await rawRequest(gateway, 'GET', source);
      expect(asset.status, source).toBe(200);
    }
    const init = await rawRequest(gateway, 'GET', '/docs/docs-init.js');
    expect(init.text).toContain("fetch('/openapi.json')");
    expect(init.text).toContain('window.location.origin');
  });

  it('serves only the UI files: anything else under /docs is a 404 with the error body', async () => {
    for (const path of ['/docs/package.json', '/docs/..%2Fpackage.json', '/docs/index.html', '/docs/favicon-16x16.png']) {
      const response = await rawRequest(gateway, 'GET', path);
      expect(response.status, path).toBe(404);
      expect(response.json(), path).toMatchObject({ statusCode: 404 });
    }
  });
});
