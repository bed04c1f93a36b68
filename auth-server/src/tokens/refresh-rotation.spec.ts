import { describe, expect, it } from 'vitest';
import { KEYED_REFRESH_RETRY_MS, assessPresentedToken, keyedRetryVerdict, rotationOutcome } from './refresh-rotation.js';
import { generateRefreshTokenValue, hashRefreshToken, keepRowUntil, type RefreshToken } from './refresh-token.js';

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

describe('keyedRetryVerdict', () => {
  const successor = { id: 'c'.repeat(24), tokenHash: 'hash-of-keyed', createdAt: now };
  const at = (ms: number) => new Date(now.getTime() + ms);

  it('replays the successor this token and key made, while it is unused and within the window', () => {
    expect(
      keyedRetryVerdict(successor, { tokenHash: 'hash-of-keyed', successorRotated: false, now: at(KEYED_REFRESH_RETRY_MS) }),
    ).toBe('replay');
  });

  it.each([
    ['no successor', undefined, 'hash-of-keyed', false, 0],
    ['a successor made by another key or none', successor, 'hash-of-other', false, 0],
    ['a successor already used', successor, 'hash-of-keyed', true, 0],
    ['a retry after the window', successor, 'hash-of-keyed', false, KEYED_REFRESH_RETRY_MS + 1],
  ] as const)('treats %s as reuse', (_name, stored, tokenHash, successorRotated, later) => {
    expect(keyedRetryVerdict(stored, { tokenHash, successorRotated, now: at(later) })).toBe('reuse');
  });
});

describe('keepRowUntil', () => {
  const at = (ms: number) => new Date(now.getTime() + ms);

  it("keeps a row until its own expiry, or its parent's when that is later", () => {
    expect(keepRowUntil(at(1000))).toEqual(at(1000));
    expect(keepRowUntil(at(1000), { expiresAt: at(500) })).toEqual(at(1000));
    expect(keepRowUntil(at(1000), { expiresAt: at(5000) })).toEqual(at(5000));
  });
});
