import { DateTime, IANAZone } from 'luxon';
import { IANA_ZONE_NAMES } from './zone-names.js';

/** An IANA zone is named (`Asia/Seoul`, `UTC`, `Etc/GMT+12`); an offset such as `+09:00` is not one. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]*$/;

export function isValidTimeZone(zone: string): boolean {
  // The platform's Intl accepts a bare offset as a zone too; an event's day needs a named zone (DST rules).
  return ZONE_NAME.test(zone) && IANAZone.isValidZone(zone);
}

/** Zone names by their lower case: the database's names and aliases, then the platform's own names. */
const ZONE_SPELLINGS = new Map<string, string>(
  [...Intl.supportedValuesOf('timeZone'), ...IANA_ZONE_NAMES].map((name) => [name.toLowerCase(), name]),
);

/**
 * A valid zone's name as stored and shown: zone names are matched without regard to case, so one given in
 * another case is written as the time zone database spells it (`asia/seoul` is `Asia/Seoul`, `us/pacific`
 * `US/Pacific`). The name itself is kept: the platform's (ICU's) own name for a zone can be an older one
 * (`Asia/Calcutta` for `Asia/Kolkata`), and an alias (`US/Pacific`) is the operator's choice. A name neither
 * the database nor the platform lists (only one the platform's Intl resolves) keeps its spelling unless the
 * platform's name for it differs only in case.
 */
export function canonicalTimeZone(zone: string): string {
  const spelled = ZONE_SPELLINGS.get(zone.toLowerCase());
  if (spelled !== undefined) return spelled;
  const resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  return resolved.toLowerCase() === zone.toLowerCase() ? resolved : zone;
}

/** A quarter of an hour in ms. Every time zone in use today has an offset that is a whole number of them. */
export const QUARTER_HOUR_MS = 15 * 60 * 1000;

/** How many periods' day tables are kept: one per event being claimed or checked at a time, roughly. */
const CACHED_PERIODS = 256;
const cache = new Map<string, LocalDays>();

/**
 * The calendar days of an event's period in its time zone, as the instants at which each local day
 * starts. Luxon decides where a day starts (DST included: a local day may last 23 or 25 hours); after
 * that, finding the day of an activity is a binary search, so 10,000 activities cost microseconds.
 * Building the table costs a luxon step per day (tens of ms for a period of years), so `LocalDays.of`
 * keeps the tables of recent periods: they are immutable and every claim of an event needs the same one.
 */
export class LocalDays {
  /** The day table of a period, built once and then reused (least recently used tables are dropped). */
  static of(from: Date, to: Date, zone: string): LocalDays {
    const key = `${zone}|${from.getTime()}|${to.getTime()}`;
    let days = cache.get(key);
    if (days) {
      cache.delete(key);
    } else {
      days = new LocalDays(from, to, zone);
      if (cache.size >= CACHED_PERIODS) cache.delete(cache.keys().next().value as string);
    }
    cache.set(key, days);
    return days;
  }

  /** dayStarts[i] = epoch ms at which local day i of the period begins; one extra entry ends the last day. */
  private readonly dayStarts: number[];
  readonly from: number;
  readonly to: number;
  /**
   * True when every local day of the period starts on a UTC quarter hour (every zone in use today; a
   * historical local mean time such as +00:19:32 does not): a quarter hour then lies in one local day.
   */
  readonly quarterAligned: boolean;

  constructor(from: Date, to: Date, zone: string) {
    this.from = from.getTime();
    this.to = to.getTime();
    const starts: number[] = [];
    let day = DateTime.fromMillis(this.from, { zone }).startOf('day');
    while (day.toMillis() <= this.to) {
      starts.push(day.toMillis());
      day = day.plus({ days: 1 }).startOf('day');
    }
    starts.push(day.toMillis());
    this.dayStarts = starts;
    this.quarterAligned = starts.every((start) => start % QUARTER_HOUR_MS === 0);
  }

  /** True when the instant lies inside the period, both ends included. */
  contains(instant: number): boolean {
    return instant >= this.from && instant <= this.to;
  }

  /** The index of the local day (0 = the day the period starts on) holding the instant; -1 outside the period. */
  dayIndexOf(instant: number): number {
    if (!this.contains(instant)) return -1;
    let low = 0;
    let high = this.dayStarts.length - 1;
    // Largest i with dayStarts[i] <= instant.
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if ((this.dayStarts[middle] as number) <= instant) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  get dayCount(): number {
    return this.dayStarts.length - 1;
  }
}

/** The number of distinct local days among the instants (inside the period). */
export function countDistinctDays(days: LocalDays, instants: Iterable<number>): number {
  const seen = new Set<number>();
  for (const instant of instants) {
    const index = days.dayIndexOf(instant);
    if (index >= 0) seen.add(index);
  }
  return seen.size;
}

/** The longest run of consecutive local days with at least one instant (inside the period). */
export function longestStreak(days: LocalDays, instants: Iterable<number>): number {
  const indices = new Set<number>();
  for (const instant of instants) {
    const index = days.dayIndexOf(instant);
    if (index >= 0) indices.add(index);
  }
  const sorted = [...indices].sort((a, b) => a - b);
  let best = 0;
  let run = 0;
  let previous = Number.NaN;
  for (const index of sorted) {
    run = index === previous + 1 ? run + 1 : 1;
    best = Math.max(best, run);
    previous = index;
  }
  return best;
}
