import { describe, expect, it } from 'vitest';
import { RefreshPace } from './refresh-pace.js';

describe('RefreshPace: refreshes per login, a burst then one per interval', () => {
  it('lets a login make its burst at once, then tells how long until the next', () => {
    const pace = new RefreshPace(3, 60_000);
    for (let i = 0; i < 3; i += 1) {
      expect(pace.waitSeconds('a', 1_000)).toBe(0);
      pace.spend('a', 1_000);
    }
    expect(pace.waitSeconds('a', 1_000)).toBe(60);
    expect(pace.waitSeconds('a', 31_000)).toBe(30);
    expect(pace.waitSeconds('a', 60_500)).toBe(1);
    expect(pace.waitSeconds('a', 61_000)).toBe(0);
    // Another login has its own.
    expect(pace.waitSeconds('b', 1_000)).toBe(0);
  });

  it('refills one refresh per interval, never above the burst', () => {
    const pace = new RefreshPace(2, 10_000);
    pace.spend('a', 0);
    pace.spend('a', 0);
    pace.spend('a', 20_000);
    pace.spend('a', 20_000);
    expect(pace.waitSeconds('a', 20_000)).toBe(10);
    // A day idle gives back the burst, not a day's worth.
    pace.spend('a', 86_400_000);
    pace.spend('a', 86_400_000);
    expect(pace.waitSeconds('a', 86_400_000)).toBe(10);
  });

  it('keeps at most its bound of logins: the full ones go first, then the oldest', () => {
    const pace = new RefreshPace(2, 60_000, 10);
    for (let i = 0; i < 10; i += 1) pace.spend(`old-${i}`, 0);
    // Two minutes on, every old login may refresh in full again: forgotten, which changes no answer.
    pace.spend('new', 120_000);
    expect(pace.size).toBe(1);
    expect(pace.waitSeconds('old-0', 120_000)).toBe(0);
    // Eleven logins spent up at one instant: the oldest go, down to nine tenths of the bound.
    for (let i = 0; i < 11; i += 1) {
      pace.spend(`busy-${i}`, 130_000);
      pace.spend(`busy-${i}`, 130_000);
    }
    expect(pace.size).toBeLessThanOrEqual(10);
    expect(pace.waitSeconds('busy-10', 130_000)).toBe(60);
  });
});
