import { DomainError } from '@reward/server-kit/errors';
import { type Condition, isComposite } from '../conditions/condition.types.js';
import { validateCondition } from '../conditions/condition.validator.js';
import { LocalDays, isValidTimeZone } from '../conditions/local-days.js';
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
 * What to say when the condition as a whole asks for more local days than the period has (in the event's zone):
 * nobody could ever meet it, and nobody would be told why. A LOGIN_DAYS or LOGIN_STREAK leaf asking for more
 * days than there are cannot be met; an ALL cannot when one of its conditions cannot, an ANY when none can. The
 * leaves that make it so are named; a leaf that cannot be met inside an ANY that can is let be.
 */
function unreachableDays(condition: Condition, draft: EventDraft): string[] {
  let dayCount: number | undefined;
  // The leaves that keep `node` from being met, or undefined when it can be.
  const blockers = (node: Condition, path: string): string[] | undefined => {
    if (isComposite(node)) {
      const children = node.conditions.map((child, index) => blockers(child, `${path}.conditions[${index}]`));
      const blocked = children.filter((child): child is string[] => child !== undefined);
      if (node.type === 'ALL') return blocked.length > 0 ? blocked.flat() : undefined;
      return blocked.length === children.length ? blocked.flat() : undefined;
    }
    if (node.type !== 'LOGIN_DAYS' && node.type !== 'LOGIN_STREAK') return undefined;
    dayCount ??= LocalDays.of(draft.startAt, draft.endAt, draft.timezone).dayCount;
    if (node.days <= dayCount) return undefined;
    return [
      `${path}.days is ${node.days}, more than the ${dayCount} local day${dayCount === 1 ? '' : 's'} of the period in ${draft.timezone}: nobody could meet it`,
    ];
  };
  return blockers(condition, 'condition') ?? [];
}

/**
 * Checks an event as a whole (after a partial update too): the period, the zone and the condition.
 * Returns the condition in its clean form; throws a 400 naming every problem. `reachable`: a login-days or
 * streak leaf may not ask for more days than the period has (checked when an event is created, and when a
 * change touches its period, zone or condition: an event made before the check can still be renamed or
 * deactivated).
 */
export function checkEventDraft(draft: EventDraft, { reachable = true }: { reachable?: boolean } = {}): Condition {
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
  } else if (reachable && problems.length === 0) {
    problems.push(
      ...unreachableDays(condition.condition, draft).map((message) => ({ code: EventErrorCode.INVALID_CONDITION, message })),
    );
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
