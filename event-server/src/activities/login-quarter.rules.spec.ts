import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LocalDays, QUARTER_HOUR_MS, countDistinctDays, longestStreak } from '../conditions/local-days.js';
import { type QuarterMark, quarterHourOf, readMarks } from './login-quarter.rules.js';

const ZONES = [
  'Asia/Seoul',
  'America/New_York',
  'Asia/Kathmandu',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'America/St_Johns',
  'UTC',
];
const DAY = 86_400_000;
const EPOCH_FROM = Date.UTC(2024, 0, 1);

/** The marks the logins leave when recorded in this order: the first login of a quarter hour keeps it. */
function marksOf(logins: number[]): QuarterMark[] {
  const marks = new Map<number, QuarterMark>();
  for (const at of logins) if (!marks.has(quarterHourOf(at))) marks.set(quarterHourOf(at), { quarter: quarterHourOf(at), at });
  return [...marks.values()];
}

const caseArb = fc
  .record({
    zone: fc.constantFrom(...ZONES),
    start: fc.integer({ min: EPOCH_FROM, max: EPOCH_FROM + 2 * 365 * DAY }),
    length: fc.integer({ min: 1, max: 10 * DAY }),
  })
  .chain(({ zone, start, length }) => {
    const near = (edge: number) => fc.integer({ min: edge - 2 * QUARTER_HOUR_MS, max: edge + 2 * QUARTER_HOUR_MS });
    // Logins anywhere in the period and, most of them, close to its start and end (where quarter hours are cut).
    const login = fc.oneof(near(start), near(start + length), fc.integer({ min: start, max: start + length }));
    return fc.record({
      zone: fc.constant(zone),
      from: fc.constant(start),
      to: fc.constant(start + length),
      logins: fc.array(login, { maxLength: 8 }),
    });
  });

describe('readMarks', () => {
  it('answers login days and streaks exactly as every login does, in any order of recording (property)', () => {
    fc.assert(
      fc.property(caseArb, ({ zone, from, to, logins }) => {
        const days = LocalDays.of(new Date(from), new Date(to), zone);
        expect(days.quarterAligned).toBe(true);
        const { instants, probes } = readMarks(marksOf(logins), days);
        // A probe finds a login of its part if there is one, as the store's read with a limit of 1 does.
        const found = probes.flatMap(({ from: low, to: high }) => logins.filter((at) => at >= low && at <= high).slice(0, 1));
        expect(probes.length).toBeLessThanOrEqual(2);
        expect(countDistinctDays(days, [...instants, ...found])).toBe(countDistinctDays(days, logins));
        expect(longestStreak(days, [...instants, ...found])).toBe(longestStreak(days, logins));
      }),
      { numRuns: 500 },
    );
  });

  it('needs no probe when the period starts and ends on quarter hours', () => {
    const from = Date.UTC(2026, 0, 1);
    const days = LocalDays.of(new Date(from), new Date(from + 3 * DAY - 1), 'Asia/Seoul');
    const logins = [from + 1000, from + 1001, from + DAY + 5, from + 3 * DAY - 2];
    expect(readMarks(marksOf(logins), days)).toEqual({ instants: [from + 1000, from + DAY + 5, from + 3 * DAY - 2], probes: [] });
  });
});

describe('LocalDays.quarterAligned', () => {
  it('holds for the zones in use and not for a local mean time off the quarter hours', () => {
    for (const zone of ZONES)
      expect(LocalDays.of(new Date('2026-01-01T00:00:00Z'), new Date('2026-12-31T00:00:00Z'), zone).quarterAligned).toBe(true);
    // Liberia kept UTC-0:44:30 until 1972: its local midnights fall between quarter hours.
    expect(
      LocalDays.of(new Date('1971-06-01T00:00:00Z'), new Date('1971-06-10T00:00:00Z'), 'Africa/Monrovia').quarterAligned,
    ).toBe(false);
  });
});
