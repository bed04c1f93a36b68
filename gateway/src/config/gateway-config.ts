import { type SecurityHeadersConfig, readSecurityHeadersConfig } from '@reward/server-kit/security-headers';
import { EnvReader, LOG_LEVELS, type LogLevel, NODE_ENVS, type NodeEnv } from '@reward/server-kit/env';
import { isProxyAddressEntry } from '@reward/server-kit/trusted-proxies';

export interface GatewayConfig {
  nodeEnv: NodeEnv;
  host: string;
  port: number;
  logLevel: LogLevel;
  /** Base URLs (origin only) of the servers the gateway proxies to: one or more replicas each. */
  upstreams: { auth: string[]; event: string[] };
  jwt: { jwksUrl: string; issuer: string; audience: string };
  /** How long an upstream may take to send its answer's headers before the client gets 504. */
  upstreamTimeoutMs: number;
  /**
   * How long an answer's body may pause between two chunks once its headers came (a streamed CSV export
   * waiting for its next page); past it the client's connection is cut, never ended as if whole.
   */
  upstreamBodyIdleTimeoutMs: number;
  /** How long connecting to an upstream may take before the client gets 503. */
  upstreamConnectTimeoutMs: number;
  /** How long a replica that refused a connection is left out of rotation. */
  replicaCooldownMs: number;
  /** How often upstream host names are resolved again, each address a replica (0: never expanded). */
  upstreamResolveIntervalMs: number;
  /** Connections (one request each) the gateway opens to each upstream replica at most. */
  upstreamMaxConnections: number;
  /** Addresses whose X-Forwarded-For the gateway believes; empty = the socket's address is the client. */
  trustedProxies: string[];
  /** Client connections open at once, in all and from one address (0: no limit). */
  connectionLimits: { total: number; perAddress: number };
  securityHeaders: SecurityHeadersConfig;
}

/**
 * An upstream is one or more replicas (comma-separated), each named by its origin; a path would
 * silently be prepended to every proxied path.
 */
function readUpstreams(reader: EnvReader, name: string, fallback: string): string[] {
  const values = reader.list(name, [fallback]);
  if (values.length === 0) reader.problem(`${name} must name at least one URL (e.g. ${fallback})`);
  const origins: string[] = [];
  for (const value of values) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      reader.problem(`${name} must be a URL or a comma-separated list of URLs, got "${value}"`);
      continue;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      reader.problem(`${name} must use http: or https:, got "${url.protocol}"`);
    } else if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
      reader.problem(`${name} must be a base URL (or a list of them) without path or query (e.g. ${fallback}), got "${value}"`);
    } else if (origins.includes(url.origin)) {
      reader.problem(`${name} lists ${url.origin} twice`);
    } else {
      origins.push(url.origin);
    }
  }
  return origins;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '0.0.0.0', '[::]']);

/** An upstream on this machine at the gateway's own port would be the gateway proxying to itself. */
function pointsAtItself(upstream: string, config: Pick<GatewayConfig, 'host' | 'port'>): boolean {
  if (config.port === 0) return false;
  try {
    const url = new URL(upstream);
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    const host = url.hostname.toLowerCase();
    return port === config.port && (LOCAL_HOSTS.has(host) || host === config.host.toLowerCase());
  } catch {
    return false;
  }
}

/** The gateway's whole configuration, validated once at boot; nothing else reads process.env. */
export function loadGatewayConfig(env: Record<string, string | undefined>): GatewayConfig {
  const reader = new EnvReader(env);
  // One setting per port: the upstreams follow AUTH_PORT / EVENT_PORT unless named explicitly.
  const auth = readUpstreams(reader, 'AUTH_SERVICE_URL', `http://127.0.0.1:${reader.port('AUTH_PORT', 3001)}`);
  const event = readUpstreams(reader, 'EVENT_SERVICE_URL', `http://127.0.0.1:${reader.port('EVENT_PORT', 3002)}`);
  const trustedProxies = reader.list('GATEWAY_TRUSTED_PROXIES', []);
  const badProxies = trustedProxies.filter((entry) => !isProxyAddressEntry(entry));
  if (badProxies.length > 0) {
    reader.problem(`GATEWAY_TRUSTED_PROXIES must list IP addresses or CIDRs, got "${badProxies.join('", "')}"`);
  }
  const config: GatewayConfig = {
    nodeEnv: reader.oneOf('NODE_ENV', NODE_ENVS, { default: 'development' }),
    host: reader.string('GATEWAY_HOST', { default: '127.0.0.1' }),
    port: reader.port('GATEWAY_PORT', 3000),
    logLevel: reader.oneOf('LOG_LEVEL', LOG_LEVELS, { default: 'info' }),
    upstreams: { auth, event },
    jwt: {
      // The first auth replica's keys unless given (every replica publishes the same keys).
      jwksUrl: reader.url('AUTH_JWKS_URL', {
        default: `${auth[0] ?? 'http://127.0.0.1:3001'}/.well-known/jwks.json`,
        protocols: ['http:', 'https:'],
      }),
      issuer: reader.string('JWT_ISSUER', { default: 'reward-platform-auth' }),
      audience: reader.string('JWT_AUDIENCE', { default: 'reward-platform' }),
    },
    upstreamTimeoutMs: reader.int('UPSTREAM_TIMEOUT_MS', { default: 10_000, min: 100, max: 300_000 }),
    upstreamBodyIdleTimeoutMs: reader.int('UPSTREAM_BODY_IDLE_TIMEOUT_MS', { default: 120_000, min: 100, max: 600_000 }),
    upstreamConnectTimeoutMs: reader.int('UPSTREAM_CONNECT_TIMEOUT_MS', { default: 1_500, min: 50, max: 60_000 }),
    replicaCooldownMs: reader.int('UPSTREAM_REPLICA_COOLDOWN_MS', { default: 5_000, min: 0, max: 600_000 }),
    upstreamResolveIntervalMs: reader.int('UPSTREAM_RESOLVE_INTERVAL_MS', { default: 5_000, min: 0, max: 600_000 }),
    upstreamMaxConnections: reader.int('UPSTREAM_MAX_CONNECTIONS', { default: 2_048, min: 1, max: 65_536 }),
    trustedProxies,
    connectionLimits: {
      total: reader.int('GATEWAY_MAX_CONNECTIONS', { default: 10_000, min: 0, max: 1_000_000 }),
      perAddress: reader.int('GATEWAY_MAX_CONNECTIONS_PER_ADDRESS', { default: 1_000, min: 0, max: 1_000_000 }),
    },
    securityHeaders: readSecurityHeadersConfig(reader),
  };
  for (const [name, upstream] of [
    ...auth.map((url) => ['AUTH_SERVICE_URL', url] as const),
    ...event.map((url) => ['EVENT_SERVICE_URL', url] as const),
  ]) {
    if (pointsAtItself(upstream, config)) {
      reader.problem(`${name} (${upstream}) points at the gateway's own port ${config.port}: it would proxy to itself`);
    }
  }
  reader.done();
  return config;
}
