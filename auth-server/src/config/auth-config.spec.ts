import { createPublicKey } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { ConfigError } from '@reward/server-kit/env';
import { describe, expect, it } from 'vitest';
import { rsaPrivateKeyPem } from '../../../test-support/tokens.js';
import { loadAuthConfig, normalisePem } from './auth-config.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadAuthConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadAuthConfig', () => {
  it('has development defaults for everything', () => {
    const config = loadAuthConfig({});
    expect(config).toMatchObject({
      nodeEnv: 'development',
      host: '127.0.0.1',
      port: 3001,
      database: { uri: 'mongodb://127.0.0.1:27017/', dbName: 'auth' },
      jwt: {
        issuer: 'reward-platform-auth',
        audience: 'reward-platform',
        privateKeyPem: undefined,
        accessTokenTtlSeconds: 900,
        refreshTokenTtlSeconds: 2_592_000,
      },
      bcryptRounds: 10,
      passwordGate: { maxInFlight: Math.min(availableParallelism(), 3), maxQueued: 1000, queueTimeoutMs: 3000 },
      admin: { email: 'admin@example.com', password: 'change-me-admin-password', usingDefaults: true },
      trustedProxies: ['127.0.0.1', '::1'],
      loginThrottle: {
        windowSeconds: 900,
        failuresPerAccountAndAddress: 5,
        failuresPerAccount: 20,
        failuresPerAddress: 200,
        knownAddressDays: 60,
        knownAddressesPerAccount: 10,
      },
      registrationThrottle: { perAddress: 100, windowSeconds: 3600 },
      securityHeaders: { hstsMaxAgeSeconds: 0 },
      outbox: {
        enabled: true,
        eventServiceUrl: 'http://127.0.0.1:3002',
        intervalMs: 1000,
        batchSize: 200,
        retryBaseMs: 1000,
        retryMaxMs: 30_000,
      },
    });
    expect(config.jwt.serviceAudience).toBe('reward-platform-internal');
  });

  it('trusts no proxy in production unless told, and the local gateway (loopback) elsewhere', () => {
    const production = {
      NODE_ENV: 'production',
      JWT_PRIVATE_KEY: rsaPrivateKeyPem(),
      ADMIN_EMAIL: 'ops@example.com',
      ADMIN_PASSWORD: 'a-long-secret',
    };
    expect(loadAuthConfig(production).trustedProxies).toEqual([]);
    expect(loadAuthConfig({ ...production, AUTH_TRUSTED_PROXIES: '10.0.0.5' }).trustedProxies).toEqual(['10.0.0.5']);
    // The gateway by its Compose service name: resolved by the server (TrustedProxies), no fixed address.
    expect(loadAuthConfig({ ...production, AUTH_TRUSTED_PROXIES: 'gateway, 10.0.0.0/8' }).trustedProxies).toEqual([
      'gateway',
      '10.0.0.0/8',
    ]);
    expect(loadAuthConfig({ NODE_ENV: 'test' }).trustedProxies).toEqual(['127.0.0.1', '::1']);
  });

  it('reads the outbox relay settings', () => {
    const config = loadAuthConfig({
      OUTBOX_ENABLED: 'false',
      EVENT_SERVICE_URL: 'https://events.internal:8443/',
      OUTBOX_RELAY_INTERVAL_MS: '50',
      OUTBOX_BATCH_SIZE: '1000',
      OUTBOX_RETRY_BASE_MS: '20',
      OUTBOX_RETRY_MAX_MS: '200',
      JWT_SERVICE_AUDIENCE: 'internal-x',
    });
    expect(config.outbox).toEqual({
      enabled: false,
      eventServiceUrl: 'https://events.internal:8443',
      intervalMs: 50,
      batchSize: 1000,
      retryBaseMs: 20,
      retryMaxMs: 200,
    });
    expect(config.jwt.serviceAudience).toBe('internal-x');
  });

  it("refuses a service audience that is the users' one (its own service token would pass for a user's)", () => {
    expect(problemsOf({ JWT_AUDIENCE: 'games', JWT_SERVICE_AUDIENCE: 'games' })).toContainEqual(
      expect.stringMatching(/^JWT_SERVICE_AUDIENCE must differ from JWT_AUDIENCE/),
    );
  });

  it('refuses outbox settings the relay cannot honour, naming each variable', () => {
    const problems = problemsOf({
      OUTBOX_ENABLED: 'yes',
      EVENT_SERVICE_URL: 'ftp://events',
      OUTBOX_BATCH_SIZE: '1001',
      OUTBOX_RELAY_INTERVAL_MS: '0',
      OUTBOX_RETRY_BASE_MS: '5000',
      OUTBOX_RETRY_MAX_MS: '1000',
    });
    for (const name of [
      'OUTBOX_ENABLED',
      'EVENT_SERVICE_URL',
      'OUTBOX_BATCH_SIZE',
      'OUTBOX_RELAY_INTERVAL_MS',
      'OUTBOX_RETRY_MAX_MS',
    ]) {
      expect(problems.some((p) => p.startsWith(name))).toBe(true);
    }
  });

  it('delivers to the event server at EVENT_PORT unless EVENT_SERVICE_URL is given', () => {
    expect(loadAuthConfig({ EVENT_PORT: '4002' }).outbox.eventServiceUrl).toBe('http://127.0.0.1:4002');
    expect(loadAuthConfig({ EVENT_PORT: '4002', EVENT_SERVICE_URL: 'http://event:3002' }).outbox.eventServiceUrl).toBe(
      'http://event:3002',
    );
  });

  it('reads every variable', () => {
    const config = loadAuthConfig({
      AUTH_HOST: '0.0.0.0',
      AUTH_PORT: '4001',
      AUTH_DB_NAME: 'auth_x',
      JWT_ISSUER: 'iss',
      JWT_AUDIENCE: 'aud',
      ACCESS_TOKEN_TTL_SECONDS: '300',
      REFRESH_TOKEN_TTL_SECONDS: '3600',
      BCRYPT_ROUNDS: '4',
      ADMIN_EMAIL: 'Boss@Example.com',
      ADMIN_PASSWORD: 'boss-password',
      AUTH_TRUSTED_PROXIES: '10.0.0.0/8, 172.16.0.1 ,fd00::/8',
      LOGIN_THROTTLE_WINDOW_SECONDS: '120',
      LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS: '3',
      LOGIN_FAILURES_PER_ACCOUNT: '10',
      LOGIN_FAILURES_PER_ADDRESS: '50',
      LOGIN_KNOWN_ADDRESS_DAYS: '30',
      LOGIN_KNOWN_ADDRESSES_PER_ACCOUNT: '4',
      REGISTRATIONS_PER_ADDRESS: '7',
      REGISTRATION_WINDOW_SECONDS: '60',
      HSTS_MAX_AGE_SECONDS: '86400',
      PASSWORD_HASH_MAX_IN_FLIGHT: '2',
      PASSWORD_HASH_MAX_QUEUED: '50',
      PASSWORD_HASH_QUEUE_TIMEOUT_MS: '1500',
      PASSWORD_HASH_MAX_RETRY_AFTER_S: '12',
      PASSWORD_HASH_STORE_MAX_IN_FLIGHT: '5',
    });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 4001,
      database: { dbName: 'auth_x' },
      jwt: { issuer: 'iss', audience: 'aud', accessTokenTtlSeconds: 300, refreshTokenTtlSeconds: 3600 },
      bcryptRounds: 4,
      passwordGate: { maxInFlight: 2, maxQueued: 50, queueTimeoutMs: 1500, maxRetryAfterSeconds: 12, storeMaxInFlight: 5 },
      admin: { email: 'boss@example.com', password: 'boss-password', usingDefaults: false },
      trustedProxies: ['10.0.0.0/8', '172.16.0.1', 'fd00::/8'],
      loginThrottle: {
        windowSeconds: 120,
        failuresPerAccountAndAddress: 3,
        failuresPerAccount: 10,
        failuresPerAddress: 50,
        knownAddressDays: 30,
        knownAddressesPerAccount: 4,
      },
      registrationThrottle: { perAddress: 7, windowSeconds: 60 },
      securityHeaders: { hstsMaxAgeSeconds: 86_400 },
    });
  });

  it('accepts a \\n-escaped single-line private key', () => {
    const pem = rsaPrivateKeyPem();
    const config = loadAuthConfig({ JWT_PRIVATE_KEY: pem.trim().replace(/\n/g, '\\n') });
    expect(config.jwt.privateKeyPem).toBe(pem.trim());
  });

  it('refuses to start in production without a key and admin credentials, naming each variable', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems.some((p) => p.startsWith('JWT_PRIVATE_KEY'))).toBe(true);
    expect(problems.some((p) => p.startsWith('ADMIN_EMAIL'))).toBe(true);
    expect(problems.some((p) => p.startsWith('ADMIN_PASSWORD'))).toBe(true);
  });

  it('starts in production when all three are given', () => {
    const config = loadAuthConfig({
      NODE_ENV: 'production',
      JWT_PRIVATE_KEY: rsaPrivateKeyPem(),
      ADMIN_EMAIL: 'ops@example.com',
      ADMIN_PASSWORD: 'a-long-secret',
    });
    expect(config.admin.usingDefaults).toBe(false);
  });

  it('hashes passwords at cost 10 at least in production (4 is for tests)', () => {
    const production = {
      NODE_ENV: 'production',
      JWT_PRIVATE_KEY: rsaPrivateKeyPem(),
      ADMIN_EMAIL: 'ops@example.com',
      ADMIN_PASSWORD: 'a-long-secret',
    };
    expect(problemsOf({ ...production, BCRYPT_ROUNDS: '4' })).toEqual([
      'BCRYPT_ROUNDS must be an integer between 10 and 15, got "4"',
    ]);
    expect(loadAuthConfig({ ...production, BCRYPT_ROUNDS: '12' }).bcryptRounds).toBe(12);
    expect(loadAuthConfig({ BCRYPT_ROUNDS: '4' }).bcryptRounds).toBe(4);
  });

  it('refuses in production an ADMIN_PASSWORD no one could choose at registration (blank, one of the most common)', () => {
    const production = { NODE_ENV: 'production', JWT_PRIVATE_KEY: rsaPrivateKeyPem(), ADMIN_EMAIL: 'ops@example.com' };
    expect(problemsOf({ ...production, ADMIN_PASSWORD: 'Password123' })).toEqual([
      'ADMIN_PASSWORD is one of the most common passwords: choose another',
    ]);
    expect(problemsOf({ ...production, ADMIN_PASSWORD: 'a-long-secret' })).toEqual([]);
  });

  it('names malformed values without quoting key material', () => {
    const problems = problemsOf({
      JWT_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----',
      BCRYPT_ROUNDS: '2',
      LOGIN_FAILURES_PER_ACCOUNT: 'ten',
      LOGIN_KNOWN_ADDRESS_DAYS: '0',
      LOGIN_KNOWN_ADDRESSES_PER_ACCOUNT: '-1',
      AUTH_TRUSTED_PROXIES: '127.0.0.1,10.0.0.0/33',
      ADMIN_PASSWORD: 'short',
      ADMIN_EMAIL: 'nobody',
      ACCESS_TOKEN_TTL_SECONDS: '0',
    });
    expect(problems.join('\n')).not.toContain('not-a-key');
    for (const name of [
      'JWT_PRIVATE_KEY',
      'BCRYPT_ROUNDS',
      'LOGIN_FAILURES_PER_ACCOUNT',
      'LOGIN_KNOWN_ADDRESS_DAYS',
      'LOGIN_KNOWN_ADDRESSES_PER_ACCOUNT',
      'AUTH_TRUSTED_PROXIES',
      'ADMIN_PASSWORD',
      'ADMIN_EMAIL',
      'ACCESS_TOKEN_TTL_SECONDS',
    ]) {
      expect(problems.some((p) => p.startsWith(name))).toBe(true);
    }
  });

  it('refuses an RSA key shorter than 2048 bits and an admin password over 72 bytes', () => {
    const problems = problemsOf({ JWT_PRIVATE_KEY: rsaPrivateKeyPem(1024), ADMIN_PASSWORD: 'ü'.repeat(40) });
    expect(problems).toEqual([
      'JWT_PRIVATE_KEY must be an RSA private key of at least 2048 bits',
      'ADMIN_PASSWORD must be at most 72 bytes (bcrypt ignores the rest)',
    ]);
  });

  it('refuses an admin password whose NFC form (what is hashed) is over 72 bytes', () => {
    // 40 bytes as given, 76 in NFC (U+0958 decomposes): bcrypt would read only part of what is hashed.
    const problems = problemsOf({ ADMIN_PASSWORD: `pw-${'\u0958'.repeat(12)}x` });
    expect(problems).toEqual(['ADMIN_PASSWORD must be at most 72 bytes (bcrypt ignores the rest)']);
  });
});

describe('JWT_ADDITIONAL_PUBLIC_KEYS', () => {
  const publicPem = (privatePem: string, type: 'spki' | 'pkcs1' = 'spki'): string =>
    createPublicKey(privatePem).export({ type, format: 'pem' }).toString();
  const signing = rsaPrivateKeyPem();
  const [first, second] = [publicPem(rsaPrivateKeyPem()), publicPem(rsaPrivateKeyPem(), 'pkcs1')];

  it('is none by default', () => {
    expect(loadAuthConfig({}).jwt.additionalPublicKeyPems).toEqual([]);
    expect(loadAuthConfig({ JWT_ADDITIONAL_PUBLIC_KEYS: ' ' }).jwt.additionalPublicKeyPems).toEqual([]);
  });

  it('reads PEM public keys one after another, on lines of their own or \\n-escaped on one line', () => {
    const config = loadAuthConfig({ JWT_PRIVATE_KEY: signing, JWT_ADDITIONAL_PUBLIC_KEYS: `${first}\n${second}` });
    expect(config.jwt.additionalPublicKeyPems).toEqual([first.trim(), second.trim()]);
    const oneLine = `${first}${second}`.replace(/\n/g, '\\n');
    expect(loadAuthConfig({ JWT_ADDITIONAL_PUBLIC_KEYS: oneLine }).jwt.additionalPublicKeyPems).toEqual([
      first.trim(),
      second.trim(),
    ]);
  });

  it('refuses at start what is not a list of other RSA public keys, naming the variable and not quoting the keys', () => {
    const refusals: Array<[string, string]> = [
      ['not a key', 'JWT_ADDITIONAL_PUBLIC_KEYS must be PEM public keys'],
      [`${first}, ${second}`, 'JWT_ADDITIONAL_PUBLIC_KEYS must be PEM public keys'],
      [
        '-----BEGIN PUBLIC KEY-----\nbm90LWEta2V5\n-----END PUBLIC KEY-----',
        'JWT_ADDITIONAL_PUBLIC_KEYS key 1 is not a readable PEM public key',
      ],
      [`${first}${rsaPrivateKeyPem()}`, 'JWT_ADDITIONAL_PUBLIC_KEYS key 2 is a PRIVATE KEY, not a public key'],
      [publicPem(rsaPrivateKeyPem(1024)), 'JWT_ADDITIONAL_PUBLIC_KEYS key 1 must be an RSA public key of at least 2048 bits'],
      [`${first}${first}`, 'JWT_ADDITIONAL_PUBLIC_KEYS key 2 is listed twice'],
      // The likeliest slip of a rotation: the new private key given with the new public key still listed, not the old.
      [`${first}${publicPem(signing, 'pkcs1')}`, "JWT_ADDITIONAL_PUBLIC_KEYS key 2 is JWT_PRIVATE_KEY's own public key"],
    ];
    for (const [value, problem] of refusals) {
      const problems = problemsOf({ JWT_PRIVATE_KEY: signing, JWT_ADDITIONAL_PUBLIC_KEYS: value });
      expect(problems, value).toHaveLength(1);
      expect(problems[0], value).toContain(problem);
      expect(problems[0], value).not.toMatch(/MII|bm90/);
    }
  });
});

describe('normalisePem', () => {
  it('unescapes \\n and trims', () => {
    expect(normalisePem('  -----BEGIN X-----\\nabc\\n-----END X-----  ')).toBe('-----BEGIN X-----\nabc\n-----END X-----');
  });
});
