import { describe, expect, it } from 'vitest';
import { loadEventConfig } from './event-config.js';

describe('loadEventConfig', () => {
  it('fetches the JWKS from the auth server at AUTH_PORT unless AUTH_JWKS_URL is given', () => {
    expect(loadEventConfig({}).jwt.jwksUrl).toBe('http://127.0.0.1:3001/.well-known/jwks.json');
    expect(loadEventConfig({ AUTH_PORT: '4001' }).jwt.jwksUrl).toBe('http://127.0.0.1:4001/.well-known/jwks.json');
    expect(loadEventConfig({ AUTH_PORT: '4001', AUTH_JWKS_URL: 'https://keys.example/jwks.json' }).jwt.jwksUrl).toBe(
      'https://keys.example/jwks.json',
    );
  });

  it("refuses a service audience that is the users' one (a service token would pass for a user's)", () => {
    expect(() => loadEventConfig({ JWT_AUDIENCE: 'games', JWT_SERVICE_AUDIENCE: 'games' })).toThrow(
      /JWT_SERVICE_AUDIENCE must differ from JWT_AUDIENCE/,
    );
    expect(() => loadEventConfig({ JWT_SERVICE_AUDIENCE: 'reward-platform' })).toThrow(/JWT_SERVICE_AUDIENCE must differ/);
  });

  it('names a malformed AUTH_PORT', () => {
    expect(() => loadEventConfig({ AUTH_PORT: 'three' })).toThrow(/AUTH_PORT must be an integer/);
  });

  it("holds a launch crowd's claims in a queue of 1,000 for up to 4 s and tells the shed ones at most 2 s in a spell's first seconds", () => {
    const claims = loadEventConfig({}).claims;
    expect(claims).toMatchObject({ maxInFlight: 16, maxQueued: 1_000, queueTimeoutMs: 4_000, firstRetryAfterSeconds: 2 });
    expect(loadEventConfig({ CLAIM_FIRST_RETRY_AFTER_S: '5' }).claims.firstRetryAfterSeconds).toBe(5);
    expect(() => loadEventConfig({ CLAIM_FIRST_RETRY_AFTER_S: '0' })).toThrow(/CLAIM_FIRST_RETRY_AFTER_S/);
  });

  it('streams 2 claim exports at once unless CLAIM_EXPORTS_AT_ONCE says otherwise, at least 1', () => {
    expect(loadEventConfig({}).claims.exportsAtOnce).toBe(2);
    expect(loadEventConfig({ CLAIM_EXPORTS_AT_ONCE: '5' }).claims.exportsAtOnce).toBe(5);
    expect(() => loadEventConfig({ CLAIM_EXPORTS_AT_ONCE: '0' })).toThrow(/CLAIM_EXPORTS_AT_ONCE/);
  });

  it('sends 16 webhooks at once unless PAYOUT_RELAY_CONCURRENCY says otherwise, at least 2 (one endpoint holds at most half)', () => {
    expect(loadEventConfig({}).payout.concurrency).toBe(16);
    expect(loadEventConfig({ PAYOUT_RELAY_CONCURRENCY: '2' }).payout.concurrency).toBe(2);
    expect(() => loadEventConfig({ PAYOUT_RELAY_CONCURRENCY: '1' })).toThrow(/PAYOUT_RELAY_CONCURRENCY/);
  });
});
