import { describe, expect, it } from 'vitest';
import { MIN_SILENCE_FOR_DEAD_MS, MISSED_BEATS_FOR_DEAD, isOwnerDead } from './instance-liveness.rules.js';

describe('isOwnerDead', () => {
  const now = Date.parse('2026-12-03T00:00:00Z');
  const beat = (silentMs: number, heartbeatMs: number) => ({ beatAt: new Date(now - silentMs), heartbeatMs });

  it('an owner with no record is dead', () => {
    expect(isOwnerDead(undefined, now)).toBe(true);
  });

  it('dead only after missing MISSED_BEATS_FOR_DEAD of its own heartbeats', () => {
    expect(isOwnerDead(beat(MISSED_BEATS_FOR_DEAD * 1_000, 1_000), now)).toBe(false);
    expect(isOwnerDead(beat(MISSED_BEATS_FOR_DEAD * 1_000 + 1, 1_000), now)).toBe(true);
    expect(isOwnerDead(beat(MISSED_BEATS_FOR_DEAD * 1_000 + 1, 10_000), now)).toBe(false);
    expect(isOwnerDead(beat(0, 1_000), now)).toBe(false);
  });

  it('never sooner than MIN_SILENCE_FOR_DEAD_MS, however fast it beats', () => {
    expect(isOwnerDead(beat(MIN_SILENCE_FOR_DEAD_MS, 10), now)).toBe(false);
    expect(isOwnerDead(beat(MIN_SILENCE_FOR_DEAD_MS + 1, 10), now)).toBe(true);
  });

  it('a beat from a clock ahead of the reader is alive', () => {
    expect(isOwnerDead(beat(-60_000, 1_000), now)).toBe(false);
  });
});
