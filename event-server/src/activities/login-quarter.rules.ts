import { type LocalDays, QUARTER_HOUR_MS } from '../conditions/local-days.js';

/** The start of the UTC quarter hour holding the instant (epoch ms). */
export function quarterHourOf(instant: number): number {
  return Math.floor(instant / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
}

/** A mark: the quarter hour's start, and the instant of one login in it (both epoch ms). */
export interface QuarterMark {
  quarter: number;
  at: number;
}

/** A part of a quarter hour, both ends included (epoch ms), to be asked for one login of its own. */
export interface LoginProbe {
  from: number;
  to: number;
}

/**
 * What a period's login marks say of its local days (the days must start on quarter hours:
 * `days.quarterAligned`): the instants of logins inside the period, one per marked quarter hour; and the
 * probes still needed. A mark's login inside the period is a login of its quarter hour's local day. A
 * quarter hour that the period's start or end cuts in two, whose mark's login lies outside the period, may
 * still hold a login inside it: its part inside the period is a probe, unless that day is already counted.
 */
export function readMarks(marks: Iterable<QuarterMark>, days: LocalDays): { instants: number[]; probes: LoginProbe[] } {
  const instants: number[] = [];
  const cut: LoginProbe[] = [];
  for (const { quarter, at } of marks) {
    const from = Math.max(quarter, days.from);
    const to = Math.min(quarter + QUARTER_HOUR_MS - 1, days.to);
    if (from > to) continue;
    if (at >= from && at <= to) instants.push(at);
    else cut.push({ from, to });
  }
  if (cut.length === 0) return { instants, probes: [] };
  const counted = new Set(instants.map((instant) => days.dayIndexOf(instant)));
  return { instants, probes: cut.filter(({ from }) => !counted.has(days.dayIndexOf(from))) };
}
