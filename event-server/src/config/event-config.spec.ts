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

  it('names a malformed AUTH_PORT', () => {
    expect(() => loadEventConfig({ AUTH_PORT: 'three' })).toThrow(/AUTH_PORT must be an integer/);
  });
});
