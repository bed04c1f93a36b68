import { describe, expect, it } from 'vitest';
import { AtMostEvery } from './at-most-every.js';

describe('AtMostEvery', () => {
  it('is due at first (a real clock), then again only once the interval has passed since it last was', () => {
    const chore = new AtMostEvery(1_000);
    const start = Date.now();
    expect(chore.due(start)).toBe(true);
    expect(chore.due(start)).toBe(false);
    expect(chore.due(start + 999)).toBe(false);
    expect(chore.due(start + 1_000)).toBe(true);
    expect(chore.due(start + 1_500)).toBe(false);
    expect(chore.due(start + 2_000)).toBe(true);
  });
});
