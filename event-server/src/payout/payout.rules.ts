/** What a delivery is: waiting to be sent (or re-sent), received with a 2xx, or given up on. */
export const DELIVERY_STATUSES = ['PENDING', 'DELIVERED', 'FAILED'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** A claim's payout as everyone sees it: NOT_REQUIRED when no endpoint was subscribed to its transitions. */
export const PAYOUT_STATUSES = ['NOT_REQUIRED', 'PENDING', 'DELIVERED', 'FAILED'] as const;
export type PayoutStatus = (typeof PAYOUT_STATUSES)[number];

export interface ClaimPayout {
  status: PayoutStatus;
  attempts: number;
  lastAttemptAt?: Date;
  lastError?: string;
  deliveredAt?: Date;
}

/** A claim's payout from the moment its webhooks are recorded until the first attempt ends. */
export function payoutRecorded(): ClaimPayout {
  return { status: 'PENDING', attempts: 0 };
}

export interface AttemptResult {
  statusCode?: number;
  latencyMs: number;
  error?: string;
  /** The `Retry-After` header of a 429 or 503 answer, as the receiver wrote it. */
  retryAfter?: string;
}

/** The answers whose `Retry-After` is honoured (RFC 9110 gives it to 503 and RFC 6585 to 429). */
const RETRY_AFTER_STATUSES: ReadonlySet<number> = new Set([429, 503]);
/** However long the schedule's longest wait, a receiver's `Retry-After` holds a delivery back for a day at most. */
export const MAX_RETRY_AFTER_MS = 24 * 3600_000;
/** How much of a `Retry-After` the receiver wrote is quoted in the attempt's error (a header can be long). */
const RETRY_AFTER_QUOTE = 40;
/** IMF-fixdate, the HTTP date senders write (RFC 9110 5.6.7): `Sun, 06 Nov 1994 08:49:37 GMT`. */
const IMF_FIXDATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
/** RFC 850's date, obsolete but to be accepted (RFC 9110 5.6.7): `Sunday, 06-Nov-94 08:49:37 GMT`. */
const RFC850_DATE =
  /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
/** ANSI C's asctime() date, obsolete but to be accepted (RFC 9110 5.6.7), in UTC: `Sun Nov  6 08:49:37 1994`. */
const ASCTIME_DATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * The instant (ms) of a UTC date and time, the year as written: Date.UTC takes a year from 0 to 99 for 1900 to
 * 1999, so `Thu, 01 Jan 0026 00:10:00 GMT`, a date long past, was taken for 1926 and then refused as no date.
 */
function utcInstant(year: number, month: number, day: number, hours: number, minutes: number, seconds: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  date.setUTCHours(hours, minutes, seconds, 0);
  return date.getTime();
}

/** A date and time as written: year, month (0-11, -1 for none), day, hours, minutes, seconds. */
type DateFields = [year: number, month: number, day: number, hours: number, minutes: number, seconds: number];

/** The fields of a date's match, given which group holds each (in DateFields' order); asctime's ` 6` reads as 6. */
function fieldsOf(match: RegExpExecArray, groups: readonly number[]): DateFields {
  const [year, month, day, hours, minutes, seconds] = groups.map((group) => match[group]!);
  return [Number(year), MONTHS.indexOf(month!), Number(day), Number(hours), Number(minutes), Number(seconds)];
}

/**
 * The fields of an HTTP date in any of its three forms (RFC 9110 5.6.7: a recipient must accept all three), or
 * undefined for anything else. RFC 850's two-digit year is the one in this century unless the date is then more
 * than 50 years after `now`, then the century before.
 */
function httpDateFields(text: string, now: Date): DateFields | undefined {
  const imf = IMF_FIXDATE.exec(text);
  if (imf) return fieldsOf(imf, [3, 2, 1, 4, 5, 6]);
  const asctime = ASCTIME_DATE.exec(text);
  if (asctime) return fieldsOf(asctime, [6, 1, 2, 3, 4, 5]);
  const rfc850 = RFC850_DATE.exec(text);
  if (!rfc850) return undefined;
  const fields = fieldsOf(rfc850, [3, 2, 1, 4, 5, 6]);
  const thisYear = now.getUTCFullYear();
  fields[0] += thisYear - (thisYear % 100);
  // "A timestamp that appears to be more than 50 years in the future" (RFC 9110 5.6.7): the timestamp, to the
  // second, not its year (31-Dec-76 read on 6 Dec 2026 is more than 50 years ahead).
  const fiftyYearsOn = new Date(now.getTime());
  fiftyYearsOn.setUTCFullYear(thisYear + 50);
  if (utcInstant(...fields) > fiftyYearsOn.getTime()) fields[0] -= 100;
  return fields;
}

/**
 * The instant (ms) an HTTP date names (httpDateFields), or undefined for anything else, a day or time that does
 * not exist included.
 */
function httpDate(text: string, now: Date): number | undefined {
  const fields = httpDateFields(text, now);
  if (!fields) return undefined;
  const [year, month, day, hours, minutes, seconds] = fields;
  if (hours > 23 || minutes > 59 || seconds > 60) return undefined;
  const at = utcInstant(year, month, day, hours, minutes, Math.min(seconds, 59));
  // 31 Feb and the like roll over into the next month: not a date.
  const check = new Date(at);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month || check.getUTCFullYear() !== year) return undefined;
  // A leap second (60) stands for the second after the 59th.
  return seconds === 60 ? at + 1000 : at;
}

/**
 * The time a `Retry-After` asks the next attempt not to come before: delay-seconds (digits only) from `now`,
 * or an HTTP date (IMF-fixdate, or either obsolete form: httpDate); undefined for anything else (ignored, not
 * guessed at). A date in the past is `now`.
 */
export function retryAfterTime(value: string, now: Date): Date | undefined {
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    // Digits too many for a number are simply far away: clamped like any long wait.
    const seconds = Math.min(Number(text), Number.MAX_SAFE_INTEGER / 1000);
    return new Date(Math.min(now.getTime() + seconds * 1000, 8.64e15));
  }
  const at = httpDate(text, now);
  if (at === undefined) return undefined;
  return new Date(Math.max(at, now.getTime()));
}

/**
 * The next attempt's delay after a failed attempt: the schedule's (jittered), or later when a 429 or 503
 * answer's `Retry-After` asks for later, clamped to the schedule's longest wait (and to MAX_RETRY_AFTER_MS) so
 * that a receiver cannot hold deliveries back indefinitely. `note` says what was made of the header, for the
 * attempt's error (what an operator reads in GET /deliveries).
 */
export function retryDelay(
  result: AttemptResult,
  scheduledMs: number,
  scheduleMs: readonly number[],
  now: Date,
): { delayMs: number; note?: string } {
  if (result.retryAfter === undefined || result.statusCode === undefined || !RETRY_AFTER_STATUSES.has(result.statusCode))
    return { delayMs: scheduledMs };
  const quoted = JSON.stringify(result.retryAfter.slice(0, RETRY_AFTER_QUOTE));
  const asked = retryAfterTime(result.retryAfter, now);
  if (!asked) return { delayMs: scheduledMs, note: `Retry-After ${quoted} ignored: neither seconds nor an HTTP date` };
  const longest = Math.min(Math.max(...scheduleMs), MAX_RETRY_AFTER_MS);
  const askedMs = asked.getTime() - now.getTime();
  const honouredMs = Math.min(askedMs, longest);
  if (honouredMs <= scheduledMs)
    return { delayMs: scheduledMs, note: `Retry-After ${quoted}: the retry schedule's next attempt is later` };
  const notBefore = new Date(now.getTime() + honouredMs).toISOString();
  const clamped = askedMs > longest ? `, clamped to the longest wait (${Math.round(longest / 1000)} s)` : '';
  return { delayMs: honouredMs, note: `Retry-After ${quoted}${clamped}: next attempt not before ${notBefore}` };
}

export type AttemptOutcome =
  | { status: 'DELIVERED' }
  | { status: 'FAILED'; disableEndpoint: boolean; error: string }
  | { status: 'PENDING'; nextAttemptAt: Date; error: string };

/**
 * How one attempt ends the delivery or schedules the next: 2xx delivered, 410 gone, else retry until the
 * schedule ends (not before a 429 or 503 answer's Retry-After asks, see retryDelay).
 */
export function outcomeOf(
  result: AttemptResult,
  retriesDone: number,
  scheduleMs: readonly number[],
  now: Date,
  random: () => number = Math.random,
): AttemptOutcome {
  const code = result.statusCode;
  if (code !== undefined && code >= 200 && code < 300) return { status: 'DELIVERED' };
  if (code === 410) return { status: 'FAILED', disableEndpoint: true, error: 'the receiver answered 410 Gone' };
  const error = result.error ?? `the receiver answered ${code}`;
  const delay = scheduleMs[retriesDone];
  if (delay === undefined) return { status: 'FAILED', disableEndpoint: false, error };
  // A Retry-After still counts as an attempt: a receiver answering 503 for ever is not retried for ever.
  const { delayMs, note } = retryDelay(result, jittered(delay, random), scheduleMs, now);
  return {
    status: 'PENDING',
    nextAttemptAt: new Date(now.getTime() + delayMs),
    error: note === undefined ? error : `${error} (${note})`,
  };
}

/**
 * A 410 answered at the address the endpoint had before it was moved (PATCH url): an attempt that failed there,
 * retried on the schedule at the new address, not a Gone of the endpoint (its status code is still recorded).
 */
export function goneAtOldUrl(result: AttemptResult): AttemptResult {
  const { statusCode: _gone, ...rest } = result;
  return { ...rest, error: "the receiver answered 410 Gone at the endpoint's previous url (it was moved meanwhile)" };
}

/**
 * ±10 % so that a receiver coming back is not hit by every retry at the same instant (the relay draws once for
 * the attempts it records together: those failed together already); no more, so that the default schedule
 * (27.6 h) still retries for at least 24 h when every delay draws the shortest.
 */
export function jittered(delayMs: number, random: () => number = Math.random): number {
  return Math.round(delayMs * (0.9 + 0.2 * random()));
}

export interface DeliveryProgress {
  status: DeliveryStatus;
  attempts: number;
  lastAttemptAt?: Date;
  lastError?: string;
  deliveredAt?: Date;
}

/** The claim's payout from its deliveries: pending while any is, failed when any gave up, else delivered. */
export function payoutOf(deliveries: readonly DeliveryProgress[]): ClaimPayout {
  if (deliveries.length === 0) return { status: 'NOT_REQUIRED', attempts: 0 };
  const status: PayoutStatus = deliveries.some((d) => d.status === 'PENDING')
    ? 'PENDING'
    : deliveries.some((d) => d.status === 'FAILED')
      ? 'FAILED'
      : 'DELIVERED';
  const attempts = deliveries.reduce((sum, d) => sum + d.attempts, 0);
  const latest = [...deliveries]
    .filter((d) => d.lastAttemptAt)
    .sort((a, b) => (b.lastAttemptAt as Date).getTime() - (a.lastAttemptAt as Date).getTime());
  const lastError = status === 'DELIVERED' ? undefined : latest.find((d) => d.status !== 'DELIVERED' && d.lastError)?.lastError;
  const deliveredAt =
    status === 'DELIVERED' ? new Date(Math.max(...deliveries.map((d) => d.deliveredAt?.getTime() ?? 0))) : undefined;
  return {
    status,
    attempts,
    ...(latest[0]?.lastAttemptAt && { lastAttemptAt: latest[0].lastAttemptAt }),
    ...(lastError !== undefined && { lastError }),
    ...(deliveredAt && { deliveredAt }),
  };
}
