import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from './gateway-config.js';

describe('loadGatewayConfig', () => {
  it('has safe defaults for local use', () => {
    expect(loadGatewayConfig({})).toEqual({
      nodeEnv: 'development',
      host: '127.0.0.1',
      port: 3000,
      logLevel: 'info',
      upstreams: { auth: ['http://127.0.0.1:3001'], event: ['http://127.0.0.1:3002'] },
      jwt: {
        jwksUrl: 'http://127.0.0.1:3001/.well-known/jwks.json',
        issuer: 'reward-platform-auth',
        audience: 'reward-platform',
      },
      upstreamTimeoutMs: 10_000,
      upstreamBodyIdleTimeoutMs: 120_000,
      upstreamConnectTimeoutMs: 1_500,
      replicaCooldownMs: 5_000,
      upstreamResolveIntervalMs: 5_000,
      upstreamMaxConnections: 2_048,
      trustedProxies: [],
      connectionLimits: { total: 10_000, perAddress: 1_000 },
      securityHeaders: { hstsMaxAgeSeconds: 0 },
    });
  });

  it('derives the JWKS URL from the auth server unless given', () => {
    expect(loadGatewayConfig({ AUTH_SERVICE_URL: 'http://auth:3001/' }).jwt.jwksUrl).toBe(
      'http://auth:3001/.well-known/jwks.json',
    );
    expect(loadGatewayConfig({ AUTH_JWKS_URL: 'https://keys.example/jwks.json' }).jwt.jwksUrl).toBe(
      'https://keys.example/jwks.json',
    );
  });

  it('follows AUTH_PORT and EVENT_PORT for the upstreams and the JWKS unless they are named', () => {
    const config = loadGatewayConfig({ AUTH_PORT: '4001', EVENT_PORT: '4002', GATEWAY_PORT: '4000' });
    expect(config.upstreams).toEqual({ auth: ['http://127.0.0.1:4001'], event: ['http://127.0.0.1:4002'] });
    expect(config.jwt.jwksUrl).toBe('http://127.0.0.1:4001/.well-known/jwks.json');
    expect(loadGatewayConfig({ AUTH_PORT: '4001', AUTH_SERVICE_URL: 'http://auth:3001' }).upstreams.auth).toEqual([
      'http://auth:3001',
    ]);
  });

  it("refuses an upstream that points at the gateway's own port", () => {
    expect(() => loadGatewayConfig({ GATEWAY_PORT: '3001' })).toThrow(
      /AUTH_SERVICE_URL \(http:\/\/127\.0\.0\.1:3001\) points at the gateway's own port 3001/,
    );
    expect(() => loadGatewayConfig({ GATEWAY_PORT: '4000', EVENT_SERVICE_URL: 'http://localhost:4000' })).toThrow(
      /EVENT_SERVICE_URL .* points at the gateway's own port 4000/,
    );
    // Another host on the same port number is another server.
    expect(loadGatewayConfig({ GATEWAY_PORT: '3001', AUTH_SERVICE_URL: 'http://auth:3001' }).port).toBe(3001);
  });

  it('reads every variable', () => {
    const config = loadGatewayConfig({
      NODE_ENV: 'production',
      GATEWAY_HOST: '0.0.0.0',
      GATEWAY_PORT: '8080',
      LOG_LEVEL: 'warn',
      EVENT_SERVICE_URL: 'http://event:3002',
      JWT_ISSUER: 'iss',
      JWT_AUDIENCE: 'aud',
      UPSTREAM_TIMEOUT_MS: '2500',
      UPSTREAM_BODY_IDLE_TIMEOUT_MS: '90000',
      UPSTREAM_CONNECT_TIMEOUT_MS: '300',
      UPSTREAM_REPLICA_COOLDOWN_MS: '2000',
      UPSTREAM_RESOLVE_INTERVAL_MS: '0',
      GATEWAY_TRUSTED_PROXIES: '10.0.0.1, 172.28.0.0/16,::1,loopback',
    });
    expect(config).toMatchObject({
      nodeEnv: 'production',
      host: '0.0.0.0',
      port: 8080,
      logLevel: 'warn',
      upstreams: { event: ['http://event:3002'] },
      jwt: { issuer: 'iss', audience: 'aud' },
      upstreamTimeoutMs: 2500,
      upstreamBodyIdleTimeoutMs: 90_000,
      upstreamConnectTimeoutMs: 300,
      replicaCooldownMs: 2000,
      upstreamResolveIntervalMs: 0,
      trustedProxies: ['10.0.0.1', '172.28.0.0/16', '::1', 'loopback'],
    });
  });

  it('takes several replicas per upstream, comma-separated, as origins', () => {
    const config = loadGatewayConfig({
      AUTH_SERVICE_URL: 'http://auth-1:3001, http://auth-2:3001/',
      EVENT_SERVICE_URL: 'http://10.0.0.5:3002,http://10.0.0.6:3002,https://event.example',
    });
    expect(config.upstreams).toEqual({
      auth: ['http://auth-1:3001', 'http://auth-2:3001'],
      event: ['http://10.0.0.5:3002', 'http://10.0.0.6:3002', 'https://event.example'],
    });
    expect(config.jwt.jwksUrl).toBe('http://auth-1:3001/.well-known/jwks.json');
  });

  it('refuses an empty list, a repeated replica and a bad entry among good ones', () => {
    expect(() => loadGatewayConfig({ EVENT_SERVICE_URL: ' , ' })).toThrow(/EVENT_SERVICE_URL must name at least one URL/);
    expect(() => loadGatewayConfig({ EVENT_SERVICE_URL: 'http://a:1,http://a:1/' })).toThrow(/lists http:\/\/a:1 twice/);
    expect(() => loadGatewayConfig({ EVENT_SERVICE_URL: 'http://a:1,nope' })).toThrow(/EVENT_SERVICE_URL must be a URL/);
    expect(() => loadGatewayConfig({ EVENT_SERVICE_URL: 'http://a:1,http://b:1/x' })).toThrow(/without path/);
    expect(() => loadGatewayConfig({ UPSTREAM_REPLICA_COOLDOWN_MS: '-1' })).toThrow(/UPSTREAM_REPLICA_COOLDOWN_MS/);
    expect(() => loadGatewayConfig({ UPSTREAM_BODY_IDLE_TIMEOUT_MS: '50' })).toThrow(/UPSTREAM_BODY_IDLE_TIMEOUT_MS/);
    expect(() => loadGatewayConfig({ UPSTREAM_BODY_IDLE_TIMEOUT_MS: 'a minute' })).toThrow(/UPSTREAM_BODY_IDLE_TIMEOUT_MS/);
  });

  it('names every malformed variable at once', () => {
    expect(() =>
      loadGatewayConfig({
        AUTH_SERVICE_URL: 'http://auth:3001/api',
        EVENT_SERVICE_URL: 'ftp://event',
        UPSTREAM_TIMEOUT_MS: 'soon',
        GATEWAY_TRUSTED_PROXIES: '10.0.0.1,everyone,10.0.0.0/99',
      }),
    ).toThrow(
      /AUTH_SERVICE_URL must be a base URL[\s\S]*EVENT_SERVICE_URL must use[\s\S]*GATEWAY_TRUSTED_PROXIES[\s\S]*everyone[\s\S]*10\.0\.0\.0\/99[\s\S]*UPSTREAM_TIMEOUT_MS/,
    );
  });
});
