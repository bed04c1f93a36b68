import { describe, expect, it } from 'vitest';
import { isStaffWrite, isStale } from './staff-write.rules.js';

describe('isStaffWrite', () => {
  it('is a write on a route only staff may call', () => {
    expect(isStaffWrite('POST', ['OPERATOR'])).toBe(true);
    expect(isStaffWrite('patch', ['OPERATOR'])).toBe(true);
    expect(isStaffWrite('DELETE', ['ADMIN'])).toBe(true);
  });

  it('is not a read, a player route, or a route any caller may use', () => {
    expect(isStaffWrite('GET', ['OPERATOR', 'AUDITOR'])).toBe(false);
    expect(isStaffWrite('HEAD', ['OPERATOR'])).toBe(false);
    expect(isStaffWrite('POST', ['USER'])).toBe(false);
    expect(isStaffWrite('POST', [])).toBe(false);
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
