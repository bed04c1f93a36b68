import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { LocalDays, countDistinctDays, isValidTimeZone, longestStreak } from './local-days.js';

const ZONES = ['Asia/Seoul', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Pacific/Chatham', 'UTC'];
const DAY = 86_400_000;
// 2024-01-01 .. 2027-01-01, which spans several DST changes in the zones above.
const EPOCH_FROM = Date.UTC(2024, 0, 1);
const EPOCH_TO = Date.UTC(2027, 0, 1);

const periodArb = fc
  .record({
    zone: fc.constantFrom(...ZONES),
    start: fc.integer({ min: EPOCH_FROM, max: EPOCH_TO - 120 * DAY }),
    length: fc.integer({ min: 1, max: 120 * DAY }),
  })
  .map(({ zone, start, length }) => ({ zone, from: start, to: start + length }));

/** The slow, obviously-right answer: the local ISO date, straight from luxon. */
const isoDate = (instant: number, zone: string): string => DateTime.fromMillis(instant, { zone }).toISODate() as string;

function naiveStreak(instants: number[], zone: string): number {
  const dates = [...new Set(instants.map((instant) => isoDate(instant, zone)))].sort();
  let best = 0;
  let run = 0;
  let previous: string | undefined;
  for (const date of dates) {
    const expectedNext = previous ? DateTime.fromISO(previous, { zone }).plus({ days: 1 }).toISODate() : undefined;
    run = date === expectedNext ? run + 1 : 1;
    best = Math.max(best, run);
    previous = date;
  }
  return best;
}

describe('LocalDays', () => {
  it('puts two instants on the same day exactly when their local dates agree (property)', () => {
    fc.assert(
      fc.property(
        periodArb,
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 30 }),
        (period, fractions) => {
          const days = new LocalDays(new Date(period.from), new Date(period.to), period.zone);
          const instants = fractions.map((f) => Math.floor(period.from + f * (period.to - period.from)));
          for (const a of instants) {
            for (const b of instants) {
              const sameIndex = days.dayIndexOf(a) === days.dayIndexOf(b);
              expect(sameIndex).toBe(isoDate(a, period.zone) === isoDate(b, period.zone));
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('counts distinct days and the longest streak like the naive luxon computation (property)', () => {
    fc.assert(
      fc.property(
        periodArb,
        fc.array(fc.double({ min: -0.2, max: 1.2, noNaN: true }), { maxLength: 60 }),
        (period, fractions) => {
          const days = new LocalDays(new Date(period.from), new Date(period.to), period.zone);
          const instants = fractions.map((f) => Math.floor(period.from + f * (period.to - period.from)));
          const inside = instants.filter((instant) => instant >= period.from && instant <= period.to);
          expect(countDistinctDays(days, instants)).toBe(new Set(inside.map((i) => isoDate(i, period.zone))).size);
          expect(longestStreak(days, instants)).toBe(naiveStreak(inside, period.zone));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('starts a new day exactly at local midnight, in a DST zone too', () => {
    const zone = 'America/New_York';
    // 2025-03-09 is 23 hours long in New York (clocks jump 02:00 -> 03:00); 2025-11-02 is 25 hours long.
    const from = DateTime.fromISO('2025-03-08T12:00', { zone }).toJSDate();
    const to = DateTime.fromISO('2025-11-03T12:00', { zone }).toJSDate();
    const days = new LocalDays(from, to, zone);
    const at = (iso: string): number => DateTime.fromISO(iso, { zone }).toMillis();
    expect(days.dayIndexOf(at('2025-03-08T23:59:59.999'))).toBe(0);
    expect(days.dayIndexOf(at('2025-03-09T00:00'))).toBe(1);
    expect(days.dayIndexOf(at('2025-03-09T23:59:59.999'))).toBe(1);
    expect(days.dayIndexOf(at('2025-03-10T00:00'))).toBe(2);
    const fallBack = days.dayIndexOf(at('2025-11-02T00:00'));
    expect(days.dayIndexOf(at('2025-11-02T23:59:59.999'))).toBe(fallBack);
    expect(days.dayIndexOf(at('2025-11-03T00:00'))).toBe(fallBack + 1);
  });

  it('ignores instants outside the period, ends included', () => {
    const from = new Date('2025-12-01T00:00:00Z');
    const to = new Date('2025-12-02T00:00:00Z');
    const days = new LocalDays(from, to, 'Asia/Seoul');
    expect(days.dayIndexOf(from.getTime() - 1)).toBe(-1);
    expect(days.dayIndexOf(to.getTime() + 1)).toBe(-1);
    expect(days.dayIndexOf(from.getTime())).toBe(0);
    // 2025-12-02T00:00Z is 09:00 on Dec 2 in Seoul; the period began at 09:00 on Dec 1.
    expect(days.dayIndexOf(to.getTime())).toBe(1);
  });

  it('gives zero for no input', () => {
    const days = new LocalDays(new Date('2025-01-01T00:00:00Z'), new Date('2025-02-01T00:00:00Z'), 'UTC');
    expect(countDistinctDays(days, [])).toBe(0);
    expect(longestStreak(days, [])).toBe(0);
  });
});

describe('LocalDays.of', () => {
  const from = new Date(Date.UTC(2024, 2, 1));
  const to = new Date(Date.UTC(2029, 1, 28));

  it('builds the day table of a period once and hands the same one to every later evaluation', () => {
    const first = LocalDays.of(from, to, 'America/New_York');
    expect(LocalDays.of(new Date(from), new Date(to), 'America/New_York')).toBe(first);
    expect(first.dayCount).toBe(new LocalDays(from, to, 'America/New_York').dayCount);
  });

  it('keeps periods apart by zone and by either end', () => {
    const base = LocalDays.of(from, to, 'Asia/Seoul');
    expect(LocalDays.of(from, to, 'Europe/London')).not.toBe(base);
    expect(LocalDays.of(from, new Date(to.getTime() + 1), 'Asia/Seoul')).not.toBe(base);
    expect(LocalDays.of(new Date(from.getTime() - 1), to, 'Asia/Seoul')).not.toBe(base);
    expect(LocalDays.of(from, to, 'Asia/Seoul')).toBe(base);
  });

  it('drops the least recently used tables, so many events cannot grow memory without bound', () => {
    const kept = LocalDays.of(from, to, 'UTC');
    const dropped = LocalDays.of(from, to, 'Asia/Tokyo');
    for (let i = 1; i <= 300; i += 1) {
      LocalDays.of(from, new Date(from.getTime() + i * DAY), 'UTC');
      LocalDays.of(from, to, 'UTC'); // used all along: stays
    }
    expect(LocalDays.of(from, to, 'UTC')).toBe(kept);
    expect(LocalDays.of(from, to, 'Asia/Tokyo')).not.toBe(dropped);
  });
});

describe('isValidTimeZone', () => {
  it('takes IANA zone names and refuses offsets and unknown names', () => {
    for (const zone of ['Asia/Seoul', 'America/Los_Angeles', 'UTC', 'Etc/GMT+12', 'America/Argentina/Buenos_Aires']) {
      expect(isValidTimeZone(zone), zone).toBe(true);
    }
    for (const zone of ['+09:00', '-0500', 'UTC+9', 'Mars/Olympus', '', 'Asia/Seoul '])
      expect(isValidTimeZone(zone), zone).toBe(false);
  });
});
