import { describe, expect, it } from 'vitest';
import { decideThrottle } from './throttle-window.js';

const now = new Date('2030-01-01T00:01:00.000Z');
const secondsAgo = (...seconds: number[]): Date[] => seconds.map((s) => new Date(now.getTime() - s * 1000));
const WINDOW = 60_000;

describe('decideThrottle', () => {
  it('allows up to the limit, counting the attempt being decided', () => {
    expect(decideThrottle(secondsAgo(0), now, 3, WINDOW)).toEqual({ allowed: true, remaining: 2 });
    expect(decideThrottle(secondsAgo(0, 10, 20), now, 3, WINDOW)).toEqual({ allowed: true, remaining: 0 });
  });

  it('blocks the attempt after the limit until the limit-th newest attempt leaves the window', () => {
    // Attempts 0 s, 10 s, 20 s and 30 s ago with limit 3: blocked; the 3rd newest (20 s ago) leaves in 40 s.
    expect(decideThrottle(secondsAgo(0, 10, 20, 30), now, 3, WINDOW)).toEqual({ allowed: false, retryAfterSeconds: 40 });
  });

  it('ignores attempts outside the window (the boundary itself is outside)', () => {
    expect(decideThrottle(secondsAgo(0, 10, 60, 61), now, 2, WINDOW)).toEqual({ allowed: true, remaining: 0 });
  });

  it('rounds Retry-After up and never answers less than one second', () => {
    const justBefore = [now, new Date(now.getTime() - 59_999)];
    expect(decideThrottle(justBefore, now, 1, WINDOW)).toEqual({ allowed: false, retryAfterSeconds: 60 });
    const twoAttempts = [now, new Date(now.getTime() - 59_999)];
    expect(decideThrottle(twoAttempts, now, 2, WINDOW)).toEqual({ allowed: true, remaining: 0 });
    const burst = [now, now, now, new Date(now.getTime() - 59_900)];
    expect(decideThrottle(burst, now, 3, WINDOW)).toEqual({ allowed: false, retryAfterSeconds: 60 });
    const old = [now, new Date(now.getTime() - 59_500), new Date(now.getTime() - 59_600)];
    expect(decideThrottle(old, now, 2, WINDOW)).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('never tells more than the window, though parallel attempts were recorded after this one decided', () => {
    const later = [new Date(now.getTime() + 400), new Date(now.getTime() + 300), now];
    expect(decideThrottle(later, now, 1, WINDOW)).toEqual({ allowed: false, retryAfterSeconds: 60 });
  });

  it('with limit 1, a blocked attempt itself counts: wait a full window', () => {
    expect(decideThrottle(secondsAgo(0, 5), now, 1, WINDOW)).toEqual({ allowed: false, retryAfterSeconds: 60 });
  });
});
