import { describe, expect, it } from 'vitest';
import { loadEventConfig } from '../config/event-config.js';
import { jittered, outcomeOf, payoutOf } from './payout.rules.js';

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
