import { describe, expect, it } from 'vitest';
import { declaredBodyBytes } from './body-budget.js';

describe('declaredBodyBytes', () => {
  const LIMIT = 1_048_576;

  it('is what Content-Length says, up to the limit', () => {
    expect(declaredBodyBytes({ 'content-length': '2048' }, LIMIT)).toBe(2048);
    expect(declaredBodyBytes({ 'content-length': String(LIMIT) }, LIMIT)).toBe(LIMIT);
  });

  it('is the whole limit for a chunked body, whose size nobody knows before it ends', () => {
    expect(declaredBodyBytes({ 'transfer-encoding': 'chunked' }, LIMIT)).toBe(LIMIT);
  });

  it('is 0 for no body, and for one declared over the limit or malformed (refused before it is read)', () => {
    for (const length of ['0', String(LIMIT + 1), '1e9', '-5', 'abc', '']) {
      expect(declaredBodyBytes({ 'content-length': length }, LIMIT), length).toBe(0);
    }
    expect(declaredBodyBytes({}, LIMIT)).toBe(0);
  });
});
