import { describe, expect, it } from 'vitest';
import { START_BY_HEADER, msLeftToStart, startByValue } from './start-by.js';

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
});
