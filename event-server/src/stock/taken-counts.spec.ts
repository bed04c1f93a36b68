import { describe, expect, it } from 'vitest';
import { TakenCounts } from './taken-counts.js';

function counter(): { counts: TakenCounts; calls: string[]; answer: (value: number) => void; clock: { now: number } } {
  const calls: string[] = [];
  const pending: Array<(value: number) => void> = [];
  const clock = { now: 0 };
  const counts = new TakenCounts(
    (rewardId) => {
      calls.push(rewardId);
      return new Promise<number>((resolve) => pending.push(resolve));
    },
    1_000,
    () => clock.now,
  );
  return { counts, calls, answer: (value) => pending.shift()!(value), clock };
}

describe('TakenCounts', () => {
  it('views at once share one count; later ones reuse it for the TTL, then count again', async () => {
    const { counts, calls, answer, clock } = counter();
    const views = [counts.get('r'), counts.get('r'), counts.get('r')];
    expect(calls).toEqual(['r']);
    answer(7);
    expect(await Promise.all(views)).toEqual([7, 7, 7]);
    clock.now = 999;
    expect(await counts.get('r')).toBe(7);
    expect(calls).toEqual(['r']);
    clock.now = 1_000;
    const fresh = counts.get('r');
    expect(calls).toEqual(['r', 'r']);
    answer(8);
    expect(await fresh).toBe(8);
  });

  it('a unit taken or given back here makes the next view count again, once the count in flight is back', async () => {
    const { counts, calls, answer } = counter();
    const before = counts.get('r');
    counts.changed(['r']);
    // The count in flight is still shared: at most one per reward.
    const during = counts.get('r');
    expect(calls).toEqual(['r']);
    answer(1);
    expect([await before, await during]).toEqual([1, 1]);
    const after = counts.get('r');
    expect(calls).toEqual(['r', 'r']);
    answer(2);
    expect(await after).toBe(2);
    counts.changed(['other']);
    expect(await counts.get('r')).toBe(2);
    expect(calls).toEqual(['r', 'r']);
  });

  it('a failed count is not kept', async () => {
    let fail = true;
    const counts = new TakenCounts(() => (fail ? Promise.reject(new Error('store away')) : Promise.resolve(3)), 60_000);
    await expect(counts.get('r')).rejects.toThrow('store away');
    fail = false;
    expect(await counts.get('r')).toBe(3);
  });
});
