import { describe, expect, it } from 'vitest';
import { claimsStaffRole, isStale } from './staff-access.rules.js';

describe('claimsStaffRole', () => {
  it('is any token with OPERATOR, AUDITOR or ADMIN among its roles', () => {
    expect(claimsStaffRole(['OPERATOR'])).toBe(true);
    expect(claimsStaffRole(['USER', 'AUDITOR'])).toBe(true);
    expect(claimsStaffRole(['ADMIN'])).toBe(true);
  });

  it('is not a player token, nor a token without roles', () => {
    expect(claimsStaffRole(['USER'])).toBe(false);
    expect(claimsStaffRole([])).toBe(false);
  });
});

describe('isStale', () => {
  it('refuses a token behind the newest reported version; a token without a version is version 0', () => {
    expect(isStale(0, 1)).toBe(true);
    expect(isStale(undefined, 1)).toBe(true);
    expect(isStale(1, 1)).toBe(false);
    expect(isStale(2, 1)).toBe(false);
    expect(isStale(undefined, 0)).toBe(false);
  });
});
