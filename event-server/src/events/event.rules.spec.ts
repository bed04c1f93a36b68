import { DomainError } from '@reward/server-kit/errors';
import { describe, expect, it } from 'vitest';
import { type EventDraft, checkEventDraft } from './event.rules.js';

const valid = {
  startAt: new Date('2025-12-01T00:00:00Z'),
  endAt: new Date('2025-12-31T00:00:00Z'),
  timezone: 'America/New_York',
  condition: { type: 'LOGIN_DAYS', days: 3 },
};

function failure(draft: EventDraft): DomainError {
  try {
    checkEventDraft(draft);
  } catch (error) {
    if (error instanceof DomainError) return error;
  }
  throw new Error('expected a DomainError');
}

describe('checkEventDraft', () => {
  it('returns the clean condition of a valid event', () => {
    expect(checkEventDraft(valid)).toEqual({ type: 'LOGIN_DAYS', days: 3 });
  });

  it('refuses an empty or reversed period', () => {
    const reversed = failure({ ...valid, endAt: valid.startAt });
    expect(reversed.status).toBe(400);
    expect(reversed.code).toBe('INVALID_PERIOD');
    expect(reversed.messages).toEqual(['startAt must be before endAt']);
  });

  it('refuses an unknown time zone', () => {
    const error = failure({ ...valid, timezone: 'Mars/Olympus_Mons' });
    expect(error.code).toBe('INVALID_TIMEZONE');
  });

  it('names every problem, the first one deciding the code', () => {
    const error = failure({ ...valid, timezone: 'Nowhere', condition: { type: 'LOGIN_DAYS', days: 0 } });
    expect(error.code).toBe('INVALID_TIMEZONE');
    expect(error.messages).toEqual([
      'timezone "Nowhere" is not a known IANA time zone',
      'condition.days must be a positive integer',
    ]);
  });

  it('refuses a condition that cannot be met for asking more local days than the period has, naming the leaves', () => {
    // Two local days in Seoul: Dec 1 15:00Z is Dec 2 00:00 there, Dec 3 14:59Z is Dec 3 23:59.
    const twoDays = {
      ...valid,
      startAt: new Date('2025-12-01T15:00:00Z'),
      endAt: new Date('2025-12-03T14:59:00Z'),
      timezone: 'asia/seoul',
    };
    expect(checkEventDraft({ ...twoDays, condition: { type: 'LOGIN_STREAK', days: 2 } })).toEqual({
      type: 'LOGIN_STREAK',
      days: 2,
    });
    // An ANY another branch of which can be met is let be (a shared template on a short event).
    const anyOf = {
      type: 'ANY',
      conditions: [
        { type: 'INVITE_FRIENDS', count: 3 },
        {
          type: 'ALL',
          conditions: [
            { type: 'LOGIN_DAYS', days: 3 },
            { type: 'LOGIN_STREAK', days: 3660 },
          ],
        },
      ],
    };
    expect(checkEventDraft({ ...twoDays, condition: anyOf })).toEqual(anyOf);
    // An ALL with such a branch, or an ANY of such branches only, cannot be met: the leaves that make it so are named.
    const error = failure({
      ...twoDays,
      condition: {
        type: 'ALL',
        conditions: [
          { type: 'INVITE_FRIENDS', count: 3 },
          {
            type: 'ANY',
            conditions: [
              { type: 'LOGIN_DAYS', days: 3 },
              { type: 'LOGIN_STREAK', days: 3660 },
            ],
          },
        ],
      },
    });
    expect(error.status).toBe(400);
    expect(error.code).toBe('INVALID_CONDITION');
    expect(error.messages).toEqual([
      'condition.conditions[1].conditions[0].days is 3, more than the 2 local days of the period in asia/seoul: nobody could meet it',
      'condition.conditions[1].conditions[1].days is 3660, more than the 2 local days of the period in asia/seoul: nobody could meet it',
    ]);
    // One local day in UTC for the same hours of a single date, and the check can be left out (an unrelated change).
    const oneDay = {
      ...valid,
      startAt: new Date('2025-12-01T01:00:00Z'),
      endAt: new Date('2025-12-01T02:00:00Z'),
      timezone: 'UTC',
    };
    expect(failure({ ...oneDay, condition: { type: 'LOGIN_DAYS', days: 2 } }).messages).toEqual([
      'condition.days is 2, more than the 1 local day of the period in UTC: nobody could meet it',
    ]);
    expect(checkEventDraft({ ...oneDay, condition: { type: 'LOGIN_DAYS', days: 2 } }, { reachable: false })).toEqual({
      type: 'LOGIN_DAYS',
      days: 2,
    });
  });
});
