import { type SecurityHeadersConfig, readSecurityHeadersConfig } from '@reward/server-kit/security-headers';
import { EnvReader, LOG_LEVELS, type LogLevel, NODE_ENVS, type NodeEnv, readDatabase } from '@reward/server-kit/env';

export interface EventConfig {
  nodeEnv: NodeEnv;
  host: string;
  port: number;
  logLevel: LogLevel;
  database: { uri: string; dbName: string };
  jwt: { jwksUrl: string; issuer: string; audience: string; serviceAudience: string };
  claims: {
    /** The claim reconciler: how often it runs (0 = only at start) and when an unfinished claim counts as dead. */
    reconcileIntervalMs: number;
    staleAfterMs: number;
    /** How long an event and its rewards are served from this process's cache (0 = always read). */
    catalogTtlMs: number;
    /** How long a reward found with every unit held is believed sold out without looking again. */
    soldOutTtlMs: number;
    /** Claims worked on at once by this process; more wait in a queue of `maxQueued` for `queueTimeoutMs`. */
    maxInFlight: number;
    maxQueued: number;
    queueTimeoutMs: number;
  };
  securityHeaders: SecurityHeadersConfig;
}

/** The event server's whole configuration, validated once at boot; nothing else reads process.env. */
export function loadEventConfig(env: Record<string, string | undefined>): EventConfig {
  const reader = new EnvReader(env);
  const config: EventConfig = {
    nodeEnv: reader.oneOf('NODE_ENV', NODE_ENVS, { default: 'development' }),
    host: reader.string('EVENT_HOST', { default: '127.0.0.1' }),
    port: reader.port('EVENT_PORT', 3002),
    logLevel: reader.oneOf('LOG_LEVEL', LOG_LEVELS, { default: 'info' }),
    database: readDatabase(reader, 'EVENT', 'event'),
    jwt: {
      jwksUrl: reader.url('AUTH_JWKS_URL', {
        // Follows AUTH_PORT unless named explicitly, so moving the stack takes one setting per port.
        default: `http://127.0.0.1:${reader.port('AUTH_PORT', 3001)}/.well-known/jwks.json`,
        protocols: ['http:', 'https:'],
      }),
      issuer: reader.string('JWT_ISSUER', { default: 'reward-platform-auth' }),
      audience: reader.string('JWT_AUDIENCE', { default: 'reward-platform' }),
      // Service-to-service tokens (the auth server reporting activities) carry this audience instead.
      serviceAudience: reader.string('JWT_SERVICE_AUDIENCE', { default: 'reward-platform-internal' }),
    },
    claims: {
      reconcileIntervalMs: reader.int('CLAIM_RECONCILE_INTERVAL_MS', { default: 30_000, min: 0, max: 86_400_000 }),
      staleAfterMs: reader.int('CLAIM_STALE_AFTER_MS', { default: 30_000, min: 1_000, max: 86_400_000 }),
      catalogTtlMs: reader.int('CLAIM_CATALOG_TTL_MS', { default: 2_000, min: 0, max: 60_000 }),
      soldOutTtlMs: reader.int('CLAIM_SOLD_OUT_TTL_MS', { default: 1_000, min: 0, max: 60_000 }),
      maxInFlight: reader.int('CLAIM_MAX_IN_FLIGHT', { default: 16, min: 1, max: 10_000 }),
      maxQueued: reader.int('CLAIM_MAX_QUEUED', { default: 128, min: 0, max: 100_000 }),
      queueTimeoutMs: reader.int('CLAIM_QUEUE_TIMEOUT_MS', { default: 2_000, min: 0, max: 60_000 }),
    },
    securityHeaders: readSecurityHeadersConfig(reader),
  };
  reader.done();
  return config;
}
