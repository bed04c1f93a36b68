import { type SecurityHeadersConfig, readSecurityHeadersConfig } from '@reward/server-kit/security-headers';
import { readDatabase } from '@reward/server-kit/database-config';
import { EnvReader, LOG_LEVELS, type LogLevel, NODE_ENVS, type NodeEnv } from '@reward/server-kit/env';

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
    /**
     * How often this process records that it is alive (0 = never: its Idempotency-Keys then name no owner and
     * only the reconciler's staleAfterMs finishes them). A key whose owner has not done so for five of these
     * is abandoned: a retry with it is decided at once by the replica it reaches.
     */
    heartbeatMs: number;
    /** How long an event and its rewards are served from this process's cache (0 = always read). */
    catalogTtlMs: number;
    /** How long a reward found with every unit held is believed sold out without looking again. */
    soldOutTtlMs: number;
    /** Claims worked on at once by this process; more wait in a queue of `maxQueued` for `queueTimeoutMs`. */
    maxInFlight: number;
    maxQueued: number;
    queueTimeoutMs: number;
    /** The longest Retry-After a shed claim is told (seconds), in a long spell of shedding (AdmissionGate); 1 = retry every second. */
    maxRetryAfterSeconds: number;
    /** The longest Retry-After in a spell of shedding's first seconds (AdmissionGate). */
    firstRetryAfterSeconds: number;
    /**
     * Claim requests one player may make to this process: a burst of `playerBurst` (0 = no limit), then
     * `playerPerMinute` a minute; more are answered 429 with Retry-After before anything is recorded.
     */
    playerBurst: number;
    playerPerMinute: number;
    /**
     * CSV exports this process streams at once (each reads every matching claim from the store); more are
     * answered 503 EXPORTS_BUSY with Retry-After, before anything is read.
     */
    exportsAtOnce: number;
    /**
     * How long an export may wait for its client to read on (ms): one that stopped reading with its connection
     * open is then dropped, giving back its place among CLAIM_EXPORTS_AT_ONCE and its database cursor.
     */
    exportStallMs: number;
  };
  activities: {
    /** How often the login mark sweep runs (LoginMarkSweep; 0 = only at start). */
    loginMarkSweepMs: number;
    /**
     * Activity imports this process makes at once (the auth server's reports count, but are never shed); more wait in a
     * queue of `maxQueued` for `queueTimeoutMs`, the rest are answered 503 ACTIVITIES_BUSY with Retry-After,
     * nothing written (AdmissionGate).
     */
    writes: { maxInFlight: number; maxQueued: number; queueTimeoutMs: number };
  };
  /**
   * The store time each of a list's two commands (its page and its count) may take (`GET /activities`, `/claims`,
   * `/claims/me`, `/audit-logs`, `/deliveries`, `/events`, `/webhook-endpoints`): past it the store stops the command
   * and the list is answered 503 SERVICE_UNAVAILABLE with Retry-After (readListPage). Default: a second under the
   * gateway's UPSTREAM_TIMEOUT_MS (10 s), after which no client waits for the answer: one through the gateway is
   * told why (503) rather than 504.
   */
  lists: { readMaxMs: number };
  /**
   * One player's reads that go to the store (`GET /events`, `/claims/me`, `/claims/{id}`, and `GET /events/{id}` or
   * its rewards when the event catalog does not hold the event) this process makes at once
   * (PLAYER_READ_MAX_IN_FLIGHT); more are answered 429 TOO_MANY_REQUESTS with Retry-After, nothing read. Staff's are
   * not counted.
   */
  playerReads: { maxInFlight: number };
  /**
   * Progress reads (`GET /events/{id}/progress`) this process makes at once; more wait in a queue of `maxQueued`
   * for `queueTimeoutMs`, the rest are answered 503 PROGRESS_BUSY with Retry-After (AdmissionGate). One caller's
   * reads of different events at once are at most `playerMaxInFlight`; more are answered 429 TOO_MANY_REQUESTS
   * with Retry-After, nothing read.
   */
  progress: { maxInFlight: number; maxQueued: number; queueTimeoutMs: number; playerMaxInFlight: number };
  /**
   * Review decisions (approve, reject, revoke) this process works on at once; more wait in a queue of `maxQueued`
   * for `queueTimeoutMs`, the rest are answered 503 REVIEWS_BUSY with Retry-After, nothing decided (AdmissionGate).
   */
  reviews: { maxInFlight: number; maxQueued: number; queueTimeoutMs: number };
  securityHeaders: SecurityHeadersConfig;
  payout: PayoutConfig;
}

export interface PayoutConfig {
  /** Loopback/private/link-local webhook URLs allowed (metadata addresses never are). */
  allowPrivateNetworks: boolean;
  /** How long a process trusts its copy of the enabled endpoints (other replicas' changes show after this). */
  endpointCacheMs: number;
  /** Endpoints that may exist at once: each grant is recorded and sent once per subscribed endpoint. */
  maxEndpoints: number;
  /** How often the relay looks for work (ms); 0 = this process sends nothing (the outbox still fills). */
  relayIntervalMs: number;
  /** Deliveries in flight at once per process. */
  concurrency: number;
  /** A receiver's answer must come within this (ms). */
  timeoutMs: number;
  /** Delay before each retry (ms), jittered by up to ±10 %; after the last one the delivery is FAILED. */
  retryScheduleMs: number[];
}

/** Svix's schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — about 27.6 h of retries before FAILED. */
const DEFAULT_RETRY_SCHEDULE = '5,300,1800,7200,18000,36000,36000';

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
      heartbeatMs: reader.int('CLAIM_HEARTBEAT_MS', { default: 1_000, min: 0, max: 60_000 }),
      catalogTtlMs: reader.int('CLAIM_CATALOG_TTL_MS', { default: 2_000, min: 0, max: 60_000 }),
      soldOutTtlMs: reader.int('CLAIM_SOLD_OUT_TTL_MS', { default: 1_000, min: 0, max: 60_000 }),
      maxInFlight: reader.int('CLAIM_MAX_IN_FLIGHT', { default: 16, min: 1, max: 10_000 }),
      maxQueued: reader.int('CLAIM_MAX_QUEUED', { default: 1_000, min: 0, max: 100_000 }),
      queueTimeoutMs: reader.int('CLAIM_QUEUE_TIMEOUT_MS', { default: 4_000, min: 0, max: 60_000 }),
      maxRetryAfterSeconds: reader.int('CLAIM_MAX_RETRY_AFTER_S', { default: 30, min: 1, max: 300 }),
      firstRetryAfterSeconds: reader.int('CLAIM_FIRST_RETRY_AFTER_S', { default: 2, min: 1, max: 300 }),
      playerBurst: reader.int('CLAIM_PLAYER_BURST', { default: 10, min: 0, max: 100_000 }),
      playerPerMinute: reader.int('CLAIM_PLAYER_PER_MINUTE', { default: 60, min: 1, max: 6_000_000 }),
      exportsAtOnce: reader.int('CLAIM_EXPORTS_AT_ONCE', { default: 2, min: 1, max: 100 }),
      exportStallMs: reader.int('CLAIM_EXPORT_STALL_MS', { default: 60_000, min: 100, max: 3_600_000 }),
    },
    activities: {
      loginMarkSweepMs: reader.int('LOGIN_MARK_SWEEP_MS', { default: 600_000, min: 0, max: 86_400_000 }),
      writes: {
        maxInFlight: reader.int('ACTIVITY_MAX_IN_FLIGHT', { default: 8, min: 1, max: 10_000 }),
        maxQueued: reader.int('ACTIVITY_MAX_QUEUED', { default: 200, min: 0, max: 100_000 }),
        queueTimeoutMs: reader.int('ACTIVITY_QUEUE_TIMEOUT_MS', { default: 3_000, min: 0, max: 60_000 }),
      },
    },
    lists: {
      readMaxMs: reader.int('LIST_READ_MAX_MS', { default: 9_000, min: 100, max: 300_000 }),
    },
    playerReads: {
      maxInFlight: reader.int('PLAYER_READ_MAX_IN_FLIGHT', { default: 4, min: 1, max: 10_000 }),
    },
    progress: {
      maxInFlight: reader.int('PROGRESS_MAX_IN_FLIGHT', { default: 16, min: 1, max: 10_000 }),
      maxQueued: reader.int('PROGRESS_MAX_QUEUED', { default: 200, min: 0, max: 100_000 }),
      queueTimeoutMs: reader.int('PROGRESS_QUEUE_TIMEOUT_MS', { default: 3_000, min: 0, max: 60_000 }),
      playerMaxInFlight: reader.int('PROGRESS_PLAYER_MAX_IN_FLIGHT', { default: 2, min: 1, max: 10_000 }),
    },
    reviews: {
      maxInFlight: reader.int('REVIEW_MAX_IN_FLIGHT', { default: 8, min: 1, max: 10_000 }),
      maxQueued: reader.int('REVIEW_MAX_QUEUED', { default: 200, min: 0, max: 100_000 }),
      queueTimeoutMs: reader.int('REVIEW_QUEUE_TIMEOUT_MS', { default: 3_000, min: 0, max: 60_000 }),
    },
    securityHeaders: readSecurityHeadersConfig(reader),
    payout: {
      allowPrivateNetworks:
        reader.oneOf('WEBHOOK_ALLOW_PRIVATE_NETWORKS', ['true', 'false'], {
          default: reader.isProduction ? 'false' : 'true',
        }) === 'true',
      endpointCacheMs: reader.int('WEBHOOK_ENDPOINT_CACHE_MS', { default: 5_000, min: 100, max: 60_000 }),
      maxEndpoints: reader.int('WEBHOOK_ENDPOINTS_MAX', { default: 20, min: 1, max: 1_000 }),
      relayIntervalMs: reader.int('PAYOUT_RELAY_INTERVAL_MS', { default: 250, min: 0, max: 60_000 }),
      // At least 2: one endpoint holds at most half the slots, so with one a receiver that hangs until the
      // timeout would hold every other endpoint's webhooks (README, "Payout webhooks").
      concurrency: reader.int('PAYOUT_RELAY_CONCURRENCY', { default: 16, min: 2, max: 256 }),
      timeoutMs: reader.int('WEBHOOK_TIMEOUT_MS', { default: 5_000, min: 100, max: 60_000 }),
      retryScheduleMs: retrySchedule(reader),
    },
  };
  // A service token (the auth server's own, no roles) must never pass where a user's token is asked for.
  if (config.jwt.serviceAudience === config.jwt.audience) {
    reader.problem("JWT_SERVICE_AUDIENCE must differ from JWT_AUDIENCE (a service token would pass for a user's)");
  }
  reader.done();
  return config;
}

function retrySchedule(reader: EnvReader): number[] {
  const raw = reader.list('WEBHOOK_RETRY_SCHEDULE_SECONDS', DEFAULT_RETRY_SCHEDULE.split(','));
  const seconds = raw.map(Number);
  if (seconds.length === 0 || seconds.length > 50 || seconds.some((value) => !(value >= 0.01 && value <= 604_800))) {
    reader.problem(`WEBHOOK_RETRY_SCHEDULE_SECONDS must list 1..50 delays of 0.01..604800 seconds, got "${raw.join(',')}"`);
    return [];
  }
  return seconds.map((value) => Math.round(value * 1000));
}
