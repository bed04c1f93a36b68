import { DomainError } from '@reward/server-kit/errors';
import type { Condition } from '../conditions/condition.types.js';
import { validateCondition } from '../conditions/condition.validator.js';
import { isValidTimeZone } from '../conditions/local-days.js';
import { EventErrorCode } from './event.errors.js';

export const DEFAULT_TIMEZONE = 'Asia/Seoul';
/** Longest event period: keeps per-day evaluation bounded (about 5 years of local days). */
export const MAX_EVENT_DAYS = 5 * 366;

export interface EventDraft {
  startAt: Date;
  endAt: Date;
  timezone: string;
  condition: unknown;
}

/**
 * Checks an event as a whole (after a partial update too): the period, the zone and the condition.
 * Returns the condition in its clean form; throws a 400 naming every problem.
 */
export function checkEventDraft(draft: EventDraft): Condition {
  const problems: Array<{ code: string; message: string }> = [];
  if (!(draft.startAt.getTime() < draft.endAt.getTime())) {
    problems.push({ code: EventErrorCode.INVALID_PERIOD, message: 'startAt must be before endAt' });
  } else if (draft.endAt.getTime() - draft.startAt.getTime() > MAX_EVENT_DAYS * 86_400_000) {
    problems.push({ code: EventErrorCode.INVALID_PERIOD, message: `an event may last at most ${MAX_EVENT_DAYS} days` });
  }
  if (!isValidTimeZone(draft.timezone)) {
    problems.push({
      code: EventErrorCode.INVALID_TIMEZONE,
      message: `timezone "${draft.timezone}" is not a known IANA time zone`,
    });
  }
  const condition = validateCondition(draft.condition);
  if (!condition.ok) {
    problems.push(...condition.errors.map((message) => ({ code: EventErrorCode.INVALID_CONDITION, message })));
  }
  if (problems.length > 0 || !condition.ok) {
    throw new DomainError(
      400,
      problems[0]?.code ?? EventErrorCode.INVALID_CONDITION,
      problems.map((problem) => problem.message),
    );
  }
  return condition.condition;
}
