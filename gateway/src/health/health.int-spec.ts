import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeUpstream, unusedUrl } from '../testing/fake-upstream.js';
import { startGateway, useGatewayWithFakes } from '../testing/gateway-harness.js';
import { rawRequest } from '../testing/raw-http.js';
import { loadGatewayConfig } from '../config/gateway-config.js';
import { UpstreamProbe } from './upstream-probe.js';

// Runs without a database: the gateway has none, and its upstreams here are fakes.
const gateway = useGatewayWithFakes();
const { auth, event } = gateway;

afterEach(() => {
  auth.healthy = true;
  event.healthy = true;
  auth.healthDelayMs = 0;
  event.healthDelayMs = 0;
});

describe('GET /health', () => {
  it('is 200 with both services up, without a token', async () => {
    const response = await rawRequest(gateway.url, 'GET', '/health');
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', services: { auth: 'up', event: 'up' } });
  });

  it('is 503 with the error body naming the server that is not ready', async () => {
    event.healthy = false;
    const response = await rawRequest(gateway.url, 'GET', '/health');
    expect(response.status).toBe(503);
    expect(response.json()).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      code: 'SERVICE_UNAVAILABLE',
      message: 'event server is not ready',
      services: { auth: 'up', event: 'down' },
    });
  });

  it('names both when both are down', async () => {
    auth.healthy = false;
    event.healthy = false;
    const response = await rawRequest(gateway.url, 'GET', '/health');
    expect(response.status).toBe(503);
    expect(response.json()).toMatchObject({
      message: 'auth server and event server are not ready',
      services: { auth: 'down', event: 'down' },
    });
  });

  it('counts a server that never answered in time as down, and answers within 2 s', async () => {
    event.healthDelayMs = 3_000;
    // A gateway of its own, whose probes never had an answer from this event server.
    const fresh = await startGateway({ auth: auth.url, event: event.url, jwks: auth.url });
    try {
      const response = await rawRequest(fresh.url, 'GET', '/health');
      expect(response.status).toBe(503);
      expect(response.json()).toMatchObject({ services: { auth: 'up', event: 'down' } });
      expect(response.ms).toBeLessThan(2_000);
    } finally {
      await fresh.app.close();
    }
  });

  it('keeps a server that answered lately up while it is only slow (a launch), and down once silent past the grace', async () => {
    expect((await rawRequest(gateway.url, 'GET', '/health')).status).toBe(200);
    // Longer than the grace (and the probe's own bound): the probe sent now is never answered in time.
    event.healthDelayMs = 8_000;
    const slow = await rawRequest(gateway.url, 'GET', '/health');
    expect(slow.status).toBe(200);
    expect(slow.json()).toMatchObject({ services: { auth: 'up', event: 'up' } });
    expect(slow.ms).toBeLessThan(2_000);
    await vi.waitFor(
      async () => {
        const silent = await rawRequest(gateway.url, 'GET', '/health');
        expect(silent.status).toBe(503);
        expect(silent.json()).toMatchObject({ services: { auth: 'up', event: 'down' } });
      },
      { timeout: 30_000, interval: 200 },
    );
    // A refusal is not a silence: down at once, whatever came before.
    event.healthDelayMs = 0;
    await vi.waitFor(async () => expect((await rawRequest(gateway.url, 'GET', '/health')).status).toBe(200), {
      timeout: 30_000,
      interval: 200,
    });
    event.healthy = false;
    expect((await rawRequest(gateway.url, 'GET', '/health')).status).toBe(503);
  });

  it('asks each server once for all the /health requests that arrive while it is being asked: 5,000 pipelined on one connection (165 kB, no token) made 10,000 upstream checks, each a database ping, and every answer a 503', async () => {
    auth.healthDelayMs = 300;
    event.healthDelayMs = 300;
    const [authBefore, eventBefore] = [auth.healthChecks, event.healthChecks];
    const responses = await Promise.all(Array.from({ length: 50 }, () => rawRequest(gateway.url, 'GET', '/health')));
    expect(responses.map((response) => response.status)).toEqual(responses.map(() => 200));
    expect(auth.healthChecks - authBefore).toBeLessThanOrEqual(2);
    expect(event.healthChecks - eventBefore).toBeLessThanOrEqual(2);
    // A later request asks again: the answer is shared, never kept.
    event.healthy = false;
    expect((await rawRequest(gateway.url, 'GET', '/health')).status).toBe(503);
  });

  it('counts a server nobody listens for as down', async () => {
    const orphan = await startGateway({ auth: await unusedUrl(), event: event.url, jwks: auth.url });
    try {
      const response = await rawRequest(orphan.url, 'GET', '/health');
      expect(response.status).toBe(503);
      expect(response.json()).toMatchObject({ message: 'auth server is not ready', services: { auth: 'down', event: 'up' } });
    } finally {
      await orphan.app.close();
    }
  });

  it('counts an upstream with several replicas as up while one of them is', async () => {
    const spare = await new FakeUpstream().start();
    const replicated = await startGateway({ auth: auth.url, event: `${await unusedUrl()},${spare.url}`, jwks: auth.url });
    try {
      expect((await rawRequest(replicated.url, 'GET', '/health')).json()).toMatchObject({ services: { event: 'up' } });
      spare.healthy = false;
      expect((await rawRequest(replicated.url, 'GET', '/health')).status).toBe(503);
    } finally {
      await replicated.app.close();
      await spare.stop();
    }
  });
});

describe('UpstreamProbe with an upstream named by a host name (a Compose service)', () => {
  it('asks every address the name resolves to: up while one answers, down when none does', async () => {
    // Two replicas on one port at two loopback addresses, as one service name's addresses.
    const first = await new FakeUpstream().start();
    const second = await new FakeUpstream().start({ host: '127.0.0.2', port: first.port });
    const asked: string[] = [];
    const config = loadGatewayConfig({ EVENT_SERVICE_URL: `http://event-server.test:${first.port}` });
    const probe = new UpstreamProbe(config, async (name) => {
      asked.push(name);
      return ['127.0.0.2', '127.0.0.1'];
    });
    try {
      first.healthy = false;
      expect(await probe.isUp('event')).toBe(true);
      [first.healthy, second.healthy] = [true, false];
      expect(await probe.isUp('event')).toBe(true);
      first.healthy = false;
      expect(await probe.isUp('event')).toBe(false);
      expect(asked).toEqual(['event-server.test', 'event-server.test', 'event-server.test']);
      // With names not expanded (UPSTREAM_RESOLVE_INTERVAL_MS=0), the name is asked as it stands.
      const plain = new UpstreamProbe(
        loadGatewayConfig({ EVENT_SERVICE_URL: `http://event-server.test:${first.port}`, UPSTREAM_RESOLVE_INTERVAL_MS: '0' }),
        async () => {
          throw new Error('not asked');
        },
      );
      expect(await plain.isUp('event')).toBe(false);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });

  it('resolves the name once for all the /health requests that arrive while it is being resolved (a lookup each queued without bound on libuv threads the JWKS fetch needs)', async () => {
    const replica = await new FakeUpstream().start();
    let lookups = 0;
    let answer: (addresses: string[]) => void = () => undefined;
    const pending = new Promise<string[]>((resolve) => {
      answer = resolve;
    });
    const probe = new UpstreamProbe(loadGatewayConfig({ EVENT_SERVICE_URL: `http://event-server.test:${replica.port}` }), () => {
      lookups += 1;
      return pending;
    });
    try {
      const checks = Array.from({ length: 50 }, () => probe.isUp('event'));
      expect(lookups).toBe(1);
      answer(['127.0.0.1']);
      expect(await Promise.all(checks)).toEqual(checks.map(() => true));
      // Shared while under way, never kept: a later request resolves the name again.
      expect(await probe.isUp('event')).toBe(true);
      expect(lookups).toBe(2);
    } finally {
      await replica.stop();
    }
  });
});
