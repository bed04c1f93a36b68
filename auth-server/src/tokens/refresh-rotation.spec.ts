import { describe, expect, it } from 'vitest';
import { assessPresentedToken, rotationOutcome } from './refresh-rotation.js';
import { generateRefreshTokenValue, hashRefreshToken, type RefreshToken } from './refresh-token.js';

const now = new Date('2030-01-01T00:00:00Z');
const token: RefreshToken = {
  id: 'a'.repeat(24),
  userId: 'b'.repeat(24),
  familyId: 'a'.repeat(24),
  parentId: null,
  sessionEpoch: 0,
  expiresAt: new Date(now.getTime() + 1000),
  createdAt: new Date(now.getTime() - 1000),
};

describe('assessPresentedToken', () => {
  it('accepts a live token of a live family', () => {
    expect(assessPresentedToken(token, { familyRevoked: false, now })).toEqual({ usable: true, token });
  });

  it.each([
    ['unknown', undefined, false, now],
    ['revoked family', token, true, now],
    ['expired', token, false, new Date(now.getTime() + 1000)],
  ] as const)('refuses a %s token as INVALID_REFRESH_TOKEN', (_name, presented, familyRevoked, at) => {
    expect(assessPresentedToken(presented, { familyRevoked, now: at })).toEqual({
      usable: false,
      rejection: 'INVALID_REFRESH_TOKEN',
    });
  });
});

describe('rotationOutcome', () => {
  it('a won insert is the rotation', () => {
    expect(rotationOutcome('inserted')).toEqual({ rotated: true });
  });

  it('a lost insert is reuse: revoke the family, REFRESH_TOKEN_REUSED', () => {
    expect(rotationOutcome('parent-already-has-successor')).toEqual({
      rotated: false,
      revokeFamily: true,
      rejection: 'REFRESH_TOKEN_REUSED',
    });
  });
});

describe('refresh token values', () => {
  it('are 32 random bytes in base64url, hashed with SHA-256', () => {
    const value = generateRefreshTokenValue();
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(value, 'base64url')).toHaveLength(32);
    expect(generateRefreshTokenValue()).not.toBe(value);
    expect(hashRefreshToken(value)).toBe(hashRefreshToken(value));
    expect(hashRefreshToken(value)).not.toContain(value);
    expect(hashRefreshToken('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });
});
