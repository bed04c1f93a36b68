import { describe, expect, it } from 'vitest';
import { loadEventConfig } from '../config/event-config.js';
import { jittered, outcomeOf, payoutOf, retryAfterTime } from './payout.rules.js';

const now = new Date('2026-01-01T00:00:00Z');
const schedule = [5_000, 300_000];

describe('outcomeOf', () => {
  it('2xx is delivered, 410 fails and disables, anything else retries on schedule then fails', () => {
    expect(outcomeOf({ statusCode: 204, latencyMs: 3 }, 0, schedule, now)).toEqual({ status: 'DELIVERED' });
    expect(outcomeOf({ statusCode: 410, latencyMs: 3 }, 0, schedule, now)).toEqual({
      status: 'FAILED',
      disableEndpoint: true,
      error: 'the receiver answered 410 Gone',
    });
    expect(outcomeOf({ statusCode: 500, latencyMs: 3 }, 0, schedule, now, () => 0.5)).toEqual({
      status: 'PENDING',
      nextAttemptAt: new Date(now.getTime() + 5_000),
      error: 'the receiver answered 500',
    });
    expect(outcomeOf({ latencyMs: 5000, error: 'timeout' }, 1, schedule, now, () => 0.5)).toMatchObject({
      status: 'PENDING',
      nextAttemptAt: new Date(now.getTime() + 300_000),
    });
    expect(outcomeOf({ statusCode: 301, latencyMs: 3, error: 'moved' }, 2, schedule, now)).toEqual({
      status: 'FAILED',
      disableEndpoint: false,
      error: 'moved',
    });
  });

  it('jitters by at most 10 % either way', () => {
    expect(jittered(1000, () => 0)).toBe(900);
    expect(jittered(1000, () => 0.999_999)).toBe(1100);
  });

  it('keeps retrying for at least 24 h on the default schedule, even when every delay draws the shortest jitter', () => {
    const { retryScheduleMs } = loadEventConfig({}).payout;
    let at = now;
    for (let retriesDone = 0; ; retriesDone++) {
      const outcome = outcomeOf({ statusCode: 500, latencyMs: 1 }, retriesDone, retryScheduleMs, at, () => 0);
      if (outcome.status !== 'PENDING') break;
      at = outcome.nextAttemptAt;
    }
    expect(at.getTime() - now.getTime()).toBeGreaterThanOrEqual(24 * 3600 * 1000);
  });
});

describe("a 429 or 503 answer's Retry-After", () => {
  const answered = (statusCode: number, retryAfter: string) => ({
    statusCode,
    latencyMs: 3,
    error: `the receiver answered ${statusCode}`,
    retryAfter,
  });
  const waitOf = (outcome: ReturnType<typeof outcomeOf>): number =>
    outcome.status === 'PENDING' ? outcome.nextAttemptAt.getTime() - now.getTime() : Number.NaN;

  it('reads delay-seconds and an HTTP date, and nothing else', () => {
    expect(retryAfterTime('120', now)).toEqual(new Date(now.getTime() + 120_000));
    expect(retryAfterTime(' 0 ', now)).toEqual(now);
    expect(retryAfterTime('Thu, 01 Jan 2026 00:10:00 GMT', now)).toEqual(new Date(now.getTime() + 600_000));
    // A date already past asks for nothing later than now.
    expect(retryAfterTime('Wed, 31 Dec 2025 23:00:00 GMT', now)).toEqual(now);
    for (const invalid of ['soon', '-5', '1.5', '2026-01-01T00:10:00Z', '', '0x10', 'Thu, 01 Jan 2026 00:10:00 CET'])
      expect(retryAfterTime(invalid, now), invalid).toBeUndefined();
  });

  it("reads an HTTP date's two obsolete forms too, as RFC 9110 has recipients do, and no date that does not exist", () => {
    const tenMinutesOn = new Date(now.getTime() + 600_000);
    expect(retryAfterTime('Thursday, 01-Jan-26 00:10:00 GMT', now)).toEqual(tenMinutesOn);
    expect(retryAfterTime('Thu Jan  1 00:10:00 2026', now)).toEqual(tenMinutesOn);
    expect(retryAfterTime('Thu Jan 01 00:10:00 2026', now)).toEqual(tenMinutesOn);
    // A two-digit year more than 50 years ahead is the century before: long past, so now.
    expect(retryAfterTime('Sunday, 06-Nov-94 08:49:37 GMT', now)).toEqual(now);
    expect(retryAfterTime('Friday, 01-Jan-27 00:00:00 GMT', now)).toEqual(new Date('2027-01-01T00:00:00Z'));
    for (const invalid of [
      'Thu, 31 Feb 2026 00:10:00 GMT',
      'Thu, 01 Jan 2026 24:10:00 GMT',
      'Thursday, 01-Jan-2026 00:10:00 GMT',
      'Thu, 01-Jan-26 00:10:00 GMT',
      'Thu Jan  1 00:10:00 2026 GMT',
      'Thu Jan 32 00:10:00 2026',
    ])
      expect(retryAfterTime(invalid, now), invalid).toBeUndefined();
  });

  it('reads a year before 100 as that year, long past (Date.UTC would take 0026 for 1926 and the check refuse it)', () => {
    for (const past of ['Thu, 01 Jan 0026 00:10:00 GMT', 'Sat, 01 Jan 0000 00:00:00 GMT', 'Thu Jan  1 00:10:00 0099'])
      expect(retryAfterTime(past, now), past).toEqual(now);
    expect(retryAfterTime('Thu, 29 Feb 0096 00:00:00 GMT', now)).toEqual(now);
    // 1900 was no leap year, 0 (1 BC) was: each is judged as itself.
    expect(retryAfterTime('Thu, 29 Feb 0000 00:00:00 GMT', now)).toEqual(now);
    expect(retryAfterTime('Thu, 29 Feb 0001 00:00:00 GMT', now)).toBeUndefined();
  });

  it("takes an RFC 850 date more than 50 years ahead, to the second, for the century before's", () => {
    // 50 years on from now exactly is not more than 50 years ahead; a second later is.
    expect(retryAfterTime('Wednesday, 01-Jan-76 00:00:00 GMT', now)).toEqual(new Date('2076-01-01T00:00:00Z'));
    expect(retryAfterTime('Wednesday, 01-Jan-76 00:00:01 GMT', now)).toEqual(now);
    expect(retryAfterTime('Thursday, 31-Dec-76 23:59:59 GMT', now)).toEqual(now);
    const midyear = new Date('2026-06-15T12:00:00Z');
    expect(retryAfterTime('Monday, 15-Jun-76 11:59:59 GMT', midyear)).toEqual(new Date('2076-06-15T11:59:59Z'));
    expect(retryAfterTime('Monday, 15-Jun-76 12:00:01 GMT', midyear)).toEqual(midyear);
  });

  it('puts the next attempt off until then when that is after the schedule, and says so in the error', () => {
    const outcome = outcomeOf(answered(503, '120'), 0, schedule, now, () => 0.5);
    expect(outcome).toEqual({
      status: 'PENDING',
      nextAttemptAt: new Date(now.getTime() + 120_000),
      error: 'the receiver answered 503 (Retry-After "120": next attempt not before 2026-01-01T00:02:00.000Z)',
    });
    expect(waitOf(outcomeOf(answered(429, 'Thu, 01 Jan 2026 00:03:00 GMT'), 0, schedule, now, () => 0.5))).toBe(180_000);
  });

  it("keeps the schedule's time when that is later", () => {
    const outcome = outcomeOf(answered(503, '2'), 1, schedule, now, () => 0.5);
    expect(waitOf(outcome)).toBe(300_000);
    expect(outcome).toMatchObject({ error: expect.stringContaining("the retry schedule's next attempt is later") });
  });

  it("clamps a far-off Retry-After to the schedule's longest wait, and to a day whatever the schedule", () => {
    const far = outcomeOf(answered(503, '9999999999999999999999'), 0, schedule, now, () => 0.5);
    expect(waitOf(far)).toBe(300_000);
    expect(far).toMatchObject({ error: expect.stringContaining('clamped to the longest wait (300 s)') });
    expect(waitOf(outcomeOf(answered(429, 'Fri, 01 Jan 2100 00:00:00 GMT'), 0, schedule, now))).toBe(300_000);
    const week = [5_000, 7 * 24 * 3600_000];
    expect(waitOf(outcomeOf(answered(503, String(3 * 24 * 3600)), 0, week, now, () => 0.5))).toBe(24 * 3600_000);
  });

  it('ignores an invalid one (saying so), and the header on any other answer', () => {
    const invalid = outcomeOf(answered(503, 'in a minute'), 0, schedule, now, () => 0.5);
    expect(invalid).toEqual({
      status: 'PENDING',
      nextAttemptAt: new Date(now.getTime() + 5_000),
      error: 'the receiver answered 503 (Retry-After "in a minute" ignored: neither seconds nor an HTTP date)',
    });
    expect(outcomeOf(answered(500, '120'), 0, schedule, now, () => 0.5)).toEqual({
      status: 'PENDING',
      nextAttemptAt: new Date(now.getTime() + 5_000),
      error: 'the receiver answered 500',
    });
  });

  it('still counts as an attempt: the schedule ends in FAILED, Retry-After or not', () => {
    expect(outcomeOf(answered(503, '60'), schedule.length, schedule, now)).toEqual({
      status: 'FAILED',
      disableEndpoint: false,
      error: 'the receiver answered 503',
    });
  });
});

describe('payoutOf', () => {
  const at = (s: number): Date => new Date(now.getTime() + s * 1000);
  it('is NOT_REQUIRED without deliveries, PENDING while any is, FAILED when one gave up, else DELIVERED', () => {
    expect(payoutOf([])).toEqual({ status: 'NOT_REQUIRED', attempts: 0 });
    const delivered = { status: 'DELIVERED' as const, attempts: 2, lastAttemptAt: at(2), deliveredAt: at(2) };
    const failed = { status: 'FAILED' as const, attempts: 8, lastAttemptAt: at(9), lastError: 'the receiver answered 503' };
    const pending = { status: 'PENDING' as const, attempts: 1, lastAttemptAt: at(1), lastError: 'timeout' };
    expect(payoutOf([delivered, pending])).toEqual({
      status: 'PENDING',
      attempts: 3,
      lastAttemptAt: at(2),
      lastError: 'timeout',
    });
    expect(payoutOf([delivered, failed])).toEqual({
      status: 'FAILED',
      attempts: 10,
      lastAttemptAt: at(9),
      lastError: 'the receiver answered 503',
    });
    expect(payoutOf([delivered, { ...delivered, deliveredAt: at(5), lastAttemptAt: at(5) }])).toEqual({
      status: 'DELIVERED',
      attempts: 4,
      lastAttemptAt: at(5),
      deliveredAt: at(5),
    });
  });
});
