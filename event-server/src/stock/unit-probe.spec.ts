import { describe, expect, it } from 'vitest';
import { RANDOM_PROBES, freeUnits, nextProbe } from './unit-probe.js';

describe('nextProbe', () => {
  it('tries the next free number first', () => {
    expect(nextProbe(0, 0, 20)).toEqual({ kind: 'unit', unit: 1 });
    expect(nextProbe(0, 7, 20)).toEqual({ kind: 'unit', unit: 8 });
  });

  it('then random numbers inside 1..stock, including both ends', () => {
    for (let attempt = 1; attempt <= RANDOM_PROBES; attempt++) {
      expect(nextProbe(attempt, 5, 20, () => 0)).toEqual({ kind: 'unit', unit: 1 });
      expect(nextProbe(attempt, 5, 20, () => 0.999999)).toEqual({ kind: 'unit', unit: 20 });
      expect(nextProbe(attempt, 5, 20, () => 0.5)).toEqual({ kind: 'unit', unit: 11 });
    }
  });

  it('never leaves the range, even when the random source returns 1', () => {
    expect(nextProbe(1, 0, 3, () => 1)).toEqual({ kind: 'unit', unit: 3 });
    expect(nextProbe(1, 0, 1, () => 0.7)).toEqual({ kind: 'unit', unit: 1 });
  });

  it('then scans the taken units', () => {
    expect(nextProbe(RANDOM_PROBES + 1, 5, 20)).toEqual({ kind: 'scan' });
    expect(nextProbe(RANDOM_PROBES + 7, 5, 20)).toEqual({ kind: 'scan' });
  });
});

describe('freeUnits', () => {
  it('lists the gaps in ascending order, up to max', () => {
    expect(freeUnits([1, 2, 4, 7], 8, 10)).toEqual([3, 5, 6, 8]);
    expect(freeUnits([1, 2, 4, 7], 8, 2)).toEqual([3, 5]);
  });

  it('is empty when every unit is taken, and everything when none is', () => {
    expect(freeUnits([1, 2, 3], 3, 10)).toEqual([]);
    expect(freeUnits([], 3, 10)).toEqual([1, 2, 3]);
  });

  it('ignores numbers outside 1..stock', () => {
    expect(freeUnits([0, 2, 9], 3, 10)).toEqual([1, 3]);
  });
});
