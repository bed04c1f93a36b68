import { describe, expect, it } from 'vitest';
import { requestHash } from './idempotency.rules.js';

describe('requestHash', () => {
  it('ignores key order and an absent body, but not the target or values', () => {
    expect(requestHash('e1', { a: 1, b: 2 })).toBe(requestHash('e1', { b: 2, a: 1 }));
    expect(requestHash('e1', undefined)).toBe(requestHash('e1', {}));
    expect(requestHash('e1', {})).not.toBe(requestHash('e2', {}));
    expect(requestHash('e1', { a: 1 })).not.toBe(requestHash('e1', { a: 2 }));
  });
});
