import { describe, expect, it } from 'vitest';
import { requireEmptyBody } from './empty-body.js';

describe('requireEmptyBody', () => {
  it('accepts no body and {}', () => {
    expect(() => requireEmptyBody(undefined)).not.toThrow();
    expect(() => requireEmptyBody(null)).not.toThrow();
    expect(() => requireEmptyBody({})).not.toThrow();
  });

  it('refuses fields, arrays and scalars with a 400 VALIDATION_FAILED naming the field', () => {
    expect(() => requireEmptyBody({ userId: 'x' })).toThrow(
      expect.objectContaining({ status: 400, code: 'VALIDATION_FAILED', messages: ['property userId should not exist'] }),
    );
    expect(() => requireEmptyBody([])).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => requireEmptyBody('x')).toThrow(expect.objectContaining({ status: 400 }));
  });
});
