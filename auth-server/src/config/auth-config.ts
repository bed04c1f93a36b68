import { type KeyObject, createPrivateKey, createPublicKey } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { type SecurityHeadersConfig, readSecurityHeadersConfig } from '@reward/server-kit/security-headers';
import { readDatabase } from '@reward/server-kit/database-config';
import { EnvReader, LOG_LEVELS, type LogLevel, NODE_ENVS, type NodeEnv } from '@reward/server-kit/env';
import { isHostName, isProxyAddressEntry } from '@reward/server-kit/trusted-proxies';
import { passwordBytes, passwordProblem } from '../users/password-policy.js';

/** bcrypt only looks at the first 72 bytes of a password; longer ones would be silently truncated. */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_BYTES = 72;

export const DEFAULT_ADMIN_EMAIL = 'admin@example.com';
export const DEFAULT_ADMIN_PASSWORD = 'change-me-admin-password';

export interface AuthConfig {
  nodeEnv: NodeEnv;
  host: string;
  port: number;
  logLevel: LogLevel;
  database: { uri: string; dbName: string };
  jwt: {
    issuer: string;
    audience: string;
    /** PEM of the RSA signing key; absent outside production means "generate once and keep it in the database". */
    privateKeyPem: string | undefined;
    /**
     * PEM public keys published in the JWKS and accepted beside the signing key's (JWT_ADDITIONAL_PUBLIC_KEYS):
     * during a rotation, the next key before any replica signs with it, or the previous one until the tokens
     * it signed have expired (docs/design.md, "Rotating the signing key"). Empty outside a rotation.
     */
    additionalPublicKeyPems: string[];
    accessTokenTtlSeconds: number;
    refreshTokenTtlSeconds: number;
    /** Audience of the service tokens the outbox relay presents to the event server's internal routes. */
    serviceAudience: string;
  };
  bcryptRounds: number;
  /** bcrypt work at once and waiting (see PasswordHasher); past them a sign-in or registration is shed. */
  /** See PasswordGate; `maxRetryAfterSeconds` bounds AUTH_BUSY's Retry-After in a long crowd (AdmissionGate). */
  passwordGate: {
    maxInFlight: number;
    maxQueued: number;
    queueTimeoutMs: number;
    maxRetryAfterSeconds: number;
    /** Sign-ins and registrations one client (address, IPv6 /64) may have in the password path at once. */
    perClient: number;
    /** Sign-ins and registrations doing their store work before the password at once (PasswordGate.runStoreWork). */
    storeMaxInFlight: number;
  };
  admin: { email: string; password: string; usingDefaults: boolean };
  trustedProxies: string[];
  securityHeaders: SecurityHeadersConfig;
  /** Failed logins allowed per window; see LoginThrottleService. */
  loginThrottle: {
    windowSeconds: number;
    failuresPerAccountAndAddress: number;
    failuresPerAccount: number;
    failuresPerAddress: number;
    /**
     * An address the account signed in from within this many days is "known" for it: the per-account
     * ceiling does not refuse the owner there (the per-account-and-address one still does).
     */
    knownAddressDays: number;
    /** How many known addresses are remembered per account (the most recent); 0 remembers none. */
    knownAddressesPerAccount: number;
  };
  registrationThrottle: { perAddress: number; windowSeconds: number };
  /** Refreshes per login: `burst` at once, then one per `intervalSeconds` (RefreshPace, per process). */
  refreshPace: { burst: number; intervalSeconds: number };
  outbox: OutboxConfig;
  /** The store time a list (`GET /users`) may take, its page and its count each; past it the client is told 503. */
  lists: { readMaxMs: number };
}

/** The relay that delivers LOGIN / FRIEND_INVITE activities and role-change audit entries to the event server. */
export interface OutboxConfig {
  /** Off only where nothing should be delivered (tests that are not about the outbox); rows are still written. */
  enabled: boolean;
  /** Base URL of the event server, server to server (not through the gateway); no trailing slash. */
  eventServiceUrl: string;
  intervalMs: number;
  batchSize: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

/** Accepts PEM as is or `\n`-escaped on one line (how most secret stores hand it over). */
export function normalisePem(value: string): string {
  return value.replace(/\\n/g, '\n').trim();
}

function readPrivateKey(reader: EnvReader): string | undefined {
  const raw = reader.optionalString('JWT_PRIVATE_KEY');
  if (raw === undefined) {
    if (reader.isProduction) {
      reader.problem('JWT_PRIVATE_KEY is required in production (PEM of an RSA key of at least 2048 bits)');
    }
    return undefined;
  }
  const pem = normalisePem(raw);
  try {
    const key = createPrivateKey(pem);
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (key.asymmetricKeyType !== 'rsa' || bits < 2048) {
      reader.problem('JWT_PRIVATE_KEY must be an RSA private key of at least 2048 bits');
    }
  } catch {
    // The parser's message could quote key material; say only what is wrong.
    reader.problem('JWT_PRIVATE_KEY is not a readable PEM private key');
  }
  return pem;
}

/** One PEM block; base64 has no `-`, so a block ends at the first END line (which must name the same label). */
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[^-]*-----END \1-----/g;

/** The key's SubjectPublicKeyInfo: the same key reads the same, whichever PEM form it was written in. */
const spkiOf = (key: KeyObject): string => key.export({ type: 'spki', format: 'der' }).toString('base64');

/**
 * JWT_ADDITIONAL_PUBLIC_KEYS: PEM public keys one after another (newlines may be `\n`, as in JWT_PRIVATE_KEY).
 * The signing key's own public key is refused rather than ignored: during a rotation it means a replica was
 * given the new private key but still the new public key as "additional", not the old one, so it would stop
 * publishing the key its not yet restarted peers sign with, which is the failure this setting exists to avoid.
 */
function readAdditionalPublicKeys(reader: EnvReader, privateKeyPem: string | undefined): string[] {
  const name = 'JWT_ADDITIONAL_PUBLIC_KEYS';
  const raw = reader.optionalString(name);
  if (raw === undefined) return [];
  const text = normalisePem(raw);
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.length === 0 || text.replace(PEM_BLOCK, '').trim() !== '') {
    reader.problem(
      `${name} must be PEM public keys ("-----BEGIN PUBLIC KEY-----" ... "-----END PUBLIC KEY-----"), one after another`,
    );
    return [];
  }
  let signing: string | undefined;
  try {
    signing = privateKeyPem === undefined ? undefined : spkiOf(createPublicKey(createPrivateKey(privateKeyPem)));
  } catch {
    // JWT_PRIVATE_KEY's own problem is reported already.
  }
  const seen = new Set<string>();
  const pems: string[] = [];
  blocks.forEach(([pem, label], index) => {
    const which = `${name} key ${index + 1}`;
    if (!label?.endsWith('PUBLIC KEY')) {
      reader.problem(`${which} is a ${label ?? 'PEM block'}, not a public key (openssl pkey -pubout gives the public key)`);
      return;
    }
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch {
      // The parser's message could quote key material; say only what is wrong.
      reader.problem(`${which} is not a readable PEM public key`);
      return;
    }
    if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
      reader.problem(`${which} must be an RSA public key of at least 2048 bits`);
      return;
    }
    const spki = spkiOf(key);
    if (spki === signing) reader.problem(`${which} is JWT_PRIVATE_KEY's own public key: list only other keys`);
    else if (seen.has(spki)) reader.problem(`${which} is listed twice`);
    seen.add(spki);
    pems.push(pem);
  });
  return pems;
}

/** The auth server's whole configuration, validated once at boot; nothing else reads process.env. */
export function loadAuthConfig(env: Record<string, string | undefined>): AuthConfig {
  const reader = new EnvReader(env);
  const adminEmailGiven = reader.optionalString('ADMIN_EMAIL') !== undefined;
  const adminPasswordGiven = reader.optionalString('ADMIN_PASSWORD') !== undefined;
  const privateKeyPem = readPrivateKey(reader);
  const config: AuthConfig = {
    nodeEnv: reader.oneOf('NODE_ENV', NODE_ENVS, { default: 'development' }),
    host: reader.string('AUTH_HOST', { default: '127.0.0.1' }),
    port: reader.port('AUTH_PORT', 3001),
    logLevel: reader.oneOf('LOG_LEVEL', LOG_LEVELS, { default: 'info' }),
    database: readDatabase(reader, 'AUTH', 'auth'),
    jwt: {
      issuer: reader.string('JWT_ISSUER', { default: 'reward-platform-auth' }),
      audience: reader.string('JWT_AUDIENCE', { default: 'reward-platform' }),
      privateKeyPem,
      additionalPublicKeyPems: readAdditionalPublicKeys(reader, privateKeyPem),
      accessTokenTtlSeconds: reader.int('ACCESS_TOKEN_TTL_SECONDS', { default: 900, min: 30, max: 86_400 }),
      refreshTokenTtlSeconds: reader.int('REFRESH_TOKEN_TTL_SECONDS', { default: 30 * 86_400, min: 60, max: 365 * 86_400 }),
      serviceAudience: reader.string('JWT_SERVICE_AUDIENCE', { default: 'reward-platform-internal' }),
    },
    // Tests and development may hash fast (4); production at least 10 (about 50 ms of CPU a password: OWASP's floor).
    bcryptRounds: reader.int('BCRYPT_ROUNDS', { default: 10, min: reader.isProduction ? 10 : 4, max: 15 }),
    passwordGate: {
      // bcrypt runs on libuv's thread pool (4 threads): one hash per core at most, and a thread left in the
      // pool for the rest (DNS lookups, the file system).
      maxInFlight: reader.int('PASSWORD_HASH_MAX_IN_FLIGHT', { default: Math.min(availableParallelism(), 3), min: 1, max: 64 }),
      maxQueued: reader.int('PASSWORD_HASH_MAX_QUEUED', { default: 1000, min: 0, max: 100_000 }),
      queueTimeoutMs: reader.int('PASSWORD_HASH_QUEUE_TIMEOUT_MS', { default: 3000, min: 1, max: 60_000 }),
      maxRetryAfterSeconds: reader.int('PASSWORD_HASH_MAX_RETRY_AFTER_S', { default: 30, min: 1, max: 300 }),
      perClient: reader.int('PASSWORD_HASH_PER_CLIENT', { default: 8, min: 1, max: 100_000 }),
      storeMaxInFlight: reader.int('PASSWORD_HASH_STORE_MAX_IN_FLIGHT', { default: 8, min: 1, max: 1000 }),
    },
    admin: {
      email: reader.string('ADMIN_EMAIL', { default: DEFAULT_ADMIN_EMAIL, requiredInProduction: true }).toLowerCase(),
      password: reader.string('ADMIN_PASSWORD', {
        default: DEFAULT_ADMIN_PASSWORD,
        requiredInProduction: true,
        minLength: PASSWORD_MIN_LENGTH,
      }),
      usingDefaults: !adminEmailGiven || !adminPasswordGiven,
    },
    // Production trusts nobody unless told (the gateway's address there is the deployment's to name); elsewhere
    // the gateway runs on the same machine (`npm start`), so loopback is its address.
    trustedProxies: reader.list('AUTH_TRUSTED_PROXIES', reader.isProduction ? [] : ['127.0.0.1', '::1']),
    loginThrottle: {
      windowSeconds: reader.int('LOGIN_THROTTLE_WINDOW_SECONDS', { default: 900, min: 1, max: 86_400 }),
      failuresPerAccountAndAddress: reader.int('LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS', { default: 5, min: 1, max: 100_000 }),
      failuresPerAccount: reader.int('LOGIN_FAILURES_PER_ACCOUNT', { default: 20, min: 1, max: 100_000 }),
      failuresPerAddress: reader.int('LOGIN_FAILURES_PER_ADDRESS', { default: 200, min: 1, max: 1_000_000 }),
      // Two months: longer than the refresh token's default 30 days, so a player who signs in once a month from
      // home stays known there; short enough that an address the owner left (a café, an old flat) is forgotten.
      knownAddressDays: reader.int('LOGIN_KNOWN_ADDRESS_DAYS', { default: 60, min: 1, max: 365 }),
      knownAddressesPerAccount: reader.int('LOGIN_KNOWN_ADDRESSES_PER_ACCOUNT', { default: 10, min: 0, max: 100 }),
    },
    registrationThrottle: {
      perAddress: reader.int('REGISTRATIONS_PER_ADDRESS', { default: 100, min: 1, max: 1_000_000 }),
      windowSeconds: reader.int('REGISTRATION_WINDOW_SECONDS', { default: 3600, min: 1, max: 86_400 }),
    },
    // A login's refreshes (see RefreshPace): enough at once for a client told STALE_ACCESS_TOKEN or retrying a
    // lost answer, where an access token lasts 15 minutes; every refresh stores a row for the token's lifetime.
    refreshPace: {
      burst: reader.int('REFRESH_BURST_PER_LOGIN', { default: 10, min: 1, max: 10_000 }),
      intervalSeconds: reader.int('REFRESH_INTERVAL_SECONDS_PER_LOGIN', { default: 60, min: 1, max: 86_400 }),
    },
    securityHeaders: readSecurityHeadersConfig(reader),
    outbox: {
      enabled: reader.oneOf('OUTBOX_ENABLED', ['true', 'false'], { default: 'true' }) === 'true',
      eventServiceUrl: reader
        // Follows EVENT_PORT unless named explicitly, so moving the stack takes one setting per port.
        .url('EVENT_SERVICE_URL', {
          default: `http://127.0.0.1:${reader.port('EVENT_PORT', 3002)}`,
          protocols: ['http:', 'https:'],
        })
        .replace(/\/+$/, ''),
      intervalMs: reader.int('OUTBOX_RELAY_INTERVAL_MS', { default: 1000, min: 10, max: 60_000 }),
      // The event server takes at most 1000 activities per request.
      batchSize: reader.int('OUTBOX_BATCH_SIZE', { default: 200, min: 1, max: 1000 }),
      retryBaseMs: reader.int('OUTBOX_RETRY_BASE_MS', { default: 1000, min: 10, max: 60_000 }),
      retryMaxMs: reader.int('OUTBOX_RETRY_MAX_MS', { default: 30_000, min: 10, max: 3_600_000 }),
    },
    // Under the gateway's 10 s wait for an answer, as on the event server.
    lists: { readMaxMs: reader.int('LIST_READ_MAX_MS', { default: 9_000, min: 100, max: 300_000 }) },
  };
  // Hashed in NFC, which lengthens a few characters: both forms must fit (passwordBytes).
  if (passwordBytes(config.admin.password) > PASSWORD_MAX_BYTES) {
    reader.problem(`ADMIN_PASSWORD must be at most ${PASSWORD_MAX_BYTES} bytes (bcrypt ignores the rest)`);
  }
  if (/\p{Cc}/u.test(config.admin.password)) {
    reader.problem('ADMIN_PASSWORD must not contain control characters (bcrypt stops at a NUL)');
  }
  // The rules a password chosen at registration meets, for the most powerful account (in production only: the
  // development default is known to everyone anyway, and the log says so).
  const adminPasswordProblem = passwordProblem(config.admin.password, { email: config.admin.email });
  if (reader.isProduction && adminPasswordProblem) reader.problem(`ADMIN_PASSWORD ${adminPasswordProblem}`);
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(config.admin.email)) {
    reader.problem('ADMIN_EMAIL must be an email address');
  }
  if (config.outbox.retryMaxMs < config.outbox.retryBaseMs) {
    reader.problem('OUTBOX_RETRY_MAX_MS must be at least OUTBOX_RETRY_BASE_MS');
  }
  // A service token (the auth server's own, no roles) must never pass where a user's token is asked for.
  if (config.jwt.serviceAudience === config.jwt.audience) {
    reader.problem("JWT_SERVICE_AUDIENCE must differ from JWT_AUDIENCE (a service token would pass for a user's)");
  }
  for (const proxy of config.trustedProxies) {
    if (!isProxyAddressEntry(proxy) && !isHostName(proxy)) {
      reader.problem(`AUTH_TRUSTED_PROXIES must list IP addresses, CIDR blocks or host names, got "${proxy}"`);
    }
  }
  reader.done();
  return config;
}
