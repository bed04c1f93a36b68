import { DomainError } from '@reward/server-kit/errors';
import { describe, expect, it } from 'vitest';
import { checkEventDraft } from './event.rules.js';

const valid = {
  startAt: new Date('2025-12-01T00:00:00Z'),
  endAt: new Date('2025-12-31T00:00:00Z'),
  timezone: 'America/New_York',
  condition: { type: 'LOGIN_DAYS', days: 3 },
};

function failure(draft: typeof valid): DomainError {
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
});
