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
  it('views at once share one count; later ones reuse it for the TTL, then are answered with it while one count runs', async () => {
    const { counts, calls, answer, clock } = counter();
    const views = [counts.get('r'), counts.get('r'), counts.get('r')];
    expect(calls).toEqual(['r']);
    answer(7);
    expect(await Promise.all(views)).toEqual([7, 7, 7]);
    clock.now = 999;
    expect(await counts.get('r')).toBe(7);
    expect(calls).toEqual(['r']);
    // Past the TTL: answered at once with the count it has; one count runs for the next views.
    clock.now = 1_000;
    expect(await counts.get('r')).toBe(7);
    expect(await counts.get('r')).toBe(7);
    expect(calls).toEqual(['r', 'r']);
    answer(9);
    await Promise.resolve();
    expect(await counts.get('r')).toBe(9);
    expect(calls).toEqual(['r', 'r']);
  });

  it('a count that came back more than twice the TTL ago (no view meanwhile) is not shown: the view waits for a new one', async () => {
    const { counts, calls, answer, clock } = counter();
    const first = counts.get('r');
    answer(2);
    expect(await first).toBe(2);
    // An hour without a view, units taken through other replicas meanwhile: the hour-old count is not the answer.
    clock.now = 3_600_000;
    const late = counts.get('r');
    expect(calls).toEqual(['r', 'r']);
    answer(40);
    expect(await late).toBe(40);
    // Past the TTL by less than the TTL again: answered with the count it has while one new count runs.
    clock.now = 3_601_500;
    expect(await counts.get('r')).toBe(40);
    expect(calls).toEqual(['r', 'r', 'r']);
  });

  it('a unit taken here is added to the count it has, without counting again; one taken during a count is taken as seen by it', async () => {
    const { counts, calls, answer, clock } = counter();
    const first = counts.get('r');
    answer(4);
    expect(await first).toBe(4);
    counts.took(['r']);
    counts.took(['r']);
    counts.took(['other']);
    expect(await counts.get('r')).toBe(6);
    expect(calls).toEqual(['r']);
    clock.now = 1_000;
    expect(await counts.get('r')).toBe(6);
    // Taken while that count runs: shown at once, and left to the count once it is back.
    counts.took(['r']);
    expect(await counts.get('r')).toBe(7);
    answer(7);
    await Promise.resolve();
    expect(await counts.get('r')).toBe(7);
    expect(calls).toEqual(['r', 'r']);
  });

  it('a unit given back here makes the next view count again, once the count in flight is back', async () => {
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
    // Given back after a count settled: the next view waits for a new one.
    counts.changed(['r']);
    const recount = counts.get('r');
    expect(calls).toEqual(['r', 'r', 'r']);
    answer(1);
    expect(await recount).toBe(1);
  });

  it('a failed count is not kept: a first view fails and the next counts again; a later view keeps the count it had', async () => {
    let fail = true;
    const clock = { now: 0 };
    let calls = 0;
    const counts = new TakenCounts(
      () => {
        calls++;
        return fail ? Promise.reject(new Error('store away')) : Promise.resolve(3);
      },
      1_000,
      () => clock.now,
    );
    await expect(counts.get('r')).rejects.toThrow('store away');
    fail = false;
    expect(await counts.get('r')).toBe(3);
    fail = true;
    clock.now = 1_000;
    expect(await counts.get('r')).toBe(3);
    expect(calls).toBe(3);
    await Promise.resolve();
    // The failed recount is not kept: the next view past the TTL counts again.
    expect(await counts.get('r')).toBe(3);
    expect(calls).toBe(4);
  });
});
