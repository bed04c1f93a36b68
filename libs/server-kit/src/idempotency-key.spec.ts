import { describe, expect, it } from 'vitest';
import { parseIdempotencyKey } from './idempotency-key.js';

describe('parseIdempotencyKey', () => {
  it('accepts 1..255 visible ASCII characters and no header at all', () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
    expect(parseIdempotencyKey('a')).toBe('a');
    expect(parseIdempotencyKey('k'.repeat(255))).toHaveLength(255);
    expect(parseIdempotencyKey('4f1c-9b!~')).toBe('4f1c-9b!~');
  });

  it.each([[''], ['k'.repeat(256)], ['has space'], ['tab\there'], ['ünïcode']])('refuses %j with a 400', (value) => {
    expect(() => parseIdempotencyKey(value)).toThrow(expect.objectContaining({ status: 400, code: 'INVALID_IDEMPOTENCY_KEY' }));
  });

  it('refuses a repeated header, as an array or as Node joins it, saying so', () => {
    for (const header of [['a', 'b'], 'a, b']) {
      expect(() => parseIdempotencyKey(header)).toThrow(
        expect.objectContaining({ status: 400, message: 'Idempotency-Key must be given once (one header, one key)' }),
      );
    }
  });
});
