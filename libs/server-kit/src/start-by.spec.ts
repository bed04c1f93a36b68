import { describe, expect, it } from 'vitest';
import { START_BY_HEADER, START_BY_PLAUSIBLE_MS, msLeftToStart, startByValue } from './start-by.js';

describe('start-by time', () => {
  it('is half the timeout after the gateway sends the request', () => {
    expect(startByValue(1_000_000, 10_000)).toBe('1005000');
    expect(startByValue(1_000_000, 101)).toBe('1000050');
  });

  it('is read as the ms left before it, negative once past', () => {
    expect(msLeftToStart({ [START_BY_HEADER]: '1005000' }, 1_000_000)).toBe(5_000);
    expect(msLeftToStart({ [START_BY_HEADER]: '1005000' }, 1_005_000)).toBe(0);
    expect(msLeftToStart({ [START_BY_HEADER]: '1005000' }, 1_006_000)).toBe(-1_000);
  });

  it('sets no limit when absent or malformed', () => {
    for (const value of [
      undefined,
      '',
      ' 1005000',
      '1005000.5',
      '-5',
      '1e6',
      '0x10',
      '1234567890123456',
      ['1005000', '1005000'],
    ]) {
      expect(msLeftToStart({ [START_BY_HEADER]: value }, 1_000_000), JSON.stringify(value)).toBeUndefined();
    }
  });

  it('sets no limit when further from now than any start-by the gateway sets (a direct caller, a clock far off)', () => {
    const now = 1_764_800_000_000;
    // The furthest the gateway goes: half the largest upstream timeout ahead, the whole of it behind.
    expect(msLeftToStart({ [START_BY_HEADER]: String(now + 150_000) }, now)).toBe(150_000);
    expect(msLeftToStart({ [START_BY_HEADER]: String(now - 300_000) }, now)).toBe(-300_000);
    expect(msLeftToStart({ [START_BY_HEADER]: String(now + START_BY_PLAUSIBLE_MS) }, now)).toBe(START_BY_PLAUSIBLE_MS);
    expect(msLeftToStart({ [START_BY_HEADER]: String(now - START_BY_PLAUSIBLE_MS) }, now)).toBe(-START_BY_PLAUSIBLE_MS);
    for (const value of [
      '0',
      '1',
      String(now - START_BY_PLAUSIBLE_MS - 1),
      String(now + START_BY_PLAUSIBLE_MS + 1),
      '999999999999999',
    ]) {
      expect(msLeftToStart({ [START_BY_HEADER]: value }, now), value).toBeUndefined();
    }
  });
});
