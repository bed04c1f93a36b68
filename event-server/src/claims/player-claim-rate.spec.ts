import { describe, expect, it } from 'vitest';
import { PlayerClaimRate } from './player-claim-rate.js';

describe('PlayerClaimRate', () => {
  it('lets a player make a burst, then one request per refill, and says when the next may come', () => {
    let now = 0;
    const rate = new PlayerClaimRate(3, 60, () => now);
    expect([rate.take('p1'), rate.take('p1'), rate.take('p1')]).toEqual([undefined, undefined, undefined]);
    expect(rate.take('p1')).toBe(1);
    // Other players have their own.
    expect(rate.take('p2')).toBeUndefined();
    now += 1_000;
    expect(rate.take('p1')).toBeUndefined();
    expect(rate.take('p1')).toBe(1);
    now += 10_000;
    // Refilled up to the burst, no further.
    expect([rate.take('p1'), rate.take('p1'), rate.take('p1'), rate.take('p1')]).toEqual([undefined, undefined, undefined, 1]);
  });

  it('takes back a request that decided nothing, up to the burst', () => {
    const rate = new PlayerClaimRate(2, 60, () => 0);
    expect([rate.take('p1'), rate.take('p1')]).toEqual([undefined, undefined]);
    rate.refund('p1');
    expect(rate.take('p1')).toBeUndefined();
    expect(rate.take('p1')).toBe(1);
    rate.refund('p1');
    rate.refund('p1');
    rate.refund('p1');
    expect([rate.take('p1'), rate.take('p1'), rate.take('p1')]).toEqual([undefined, undefined, 1]);
  });

  it('asks a slow refill to wait as long as it takes', () => {
    let now = 0;
    const rate = new PlayerClaimRate(1, 6, () => now);
    expect(rate.take('p1')).toBeUndefined();
    expect(rate.take('p1')).toBe(10);
    now += 5_000;
    expect(rate.take('p1')).toBe(5);
  });

  it('is off with a burst of 0', () => {
    const rate = new PlayerClaimRate(0, 1);
    for (let i = 0; i < 100; i++) expect(rate.take('p1')).toBeUndefined();
    expect(rate.size).toBe(0);
  });

  it('forgets players whose allowance has filled up again', () => {
    let now = 0;
    const rate = new PlayerClaimRate(10, 60, () => now);
    for (let i = 0; i < 1_000; i++) rate.take(`player-${i}`);
    expect(rate.size).toBe(1_000);
    now += 60_000;
    rate.take('late');
    expect(rate.size).toBe(1);
  });
});
