import { ActivityType, type Condition, type LeafCondition, isComposite } from './condition.types.js';
import { LocalDays, countDistinctDays, longestStreak } from './local-days.js';

/** What the evaluator needs of an activity. */
export interface ActivityFact {
  type: string;
  occurredAt: Date;
  attributes?: Record<string, unknown>;
}

/**
 * How many activities of a type the player has in the period, counted by the store (ActivityRepository.findFacts)
 * up to the largest count a leaf asks for (FactPlan.counts): a type counted here is taken from here, not from
 * the facts, which then hold none of it.
 */
export type ActivityCounts = ReadonlyMap<string, number>;

export interface EventPeriod {
  startAt: Date;
  endAt: Date;
  timezone: string;
}

/** The state of one leaf: how much is required, how much the player has, whether it is met. */
export interface LeafProgress {
  type: LeafCondition['type'];
  required: number;
  current: number;
  met: boolean;
  activity?: string;
  questId?: string;
}

export interface Evaluation {
  eligible: boolean;
  conditions: LeafProgress[];
}

/**
 * What to read of a player's activities for a condition, and how much of it:
 * - `instants`: types whose every instant in the period matters (LOGIN for days and streaks);
 * - `loginDaysByMarks`: LOGIN's instants matter for their local days only (days and streaks), so one login per
 *   quarter hour answers as well as all of them (the login marks, see LoginQuarterEntity); a leaf that counts
 *   logins too gets its capped count read beside them (`counts`), so no leaf reads every login a player made;
 * - `questIds`: the quests whose clear a leaf asks for (sorted, each once): one quest is one read of a clear of it
 *   with a limit of 1, several are one read of which of them were cleared (their clears counted, not sent), so a
 *   player's clears of other quests are never sent;
 * - `counts`: types only ever counted, each with the largest count a leaf requires. They are counted by the store
 *   with that limit (ActivityCounts), no document sent: a player with 50,000 BOSS_KILLs and a leaf asking for 5
 *   counts 5, and the progress shows 5 of 5 — the answer is the same (every leaf's `current` stops at its
 *   `required`). LOGIN is not counted where its days cannot be read from the marks (ActivityRepository.findFacts
 *   then reads every login in the period, and counts those).
 */
export interface FactPlan {
  instants: string[];
  loginDaysByMarks: boolean;
  questIds: string[];
  counts: Map<string, number>;
}

export function factPlanOf(condition: Condition): FactPlan {
  const instants = new Set<string>();
  const counts = new Map<string, number>();
  const questIds = new Set<string>();
  const count = (type: string, required: number): void => {
    counts.set(type, Math.max(counts.get(type) ?? 0, required));
  };
  const walk = (node: Condition): void => {
    switch (node.type) {
      case 'ALL':
      case 'ANY':
        node.conditions.forEach(walk);
        return;
      case 'LOGIN_DAYS':
      case 'LOGIN_STREAK':
        instants.add(ActivityType.LOGIN);
        return;
      case 'INVITE_FRIENDS':
        count(ActivityType.FRIEND_INVITE, node.count);
        return;
      case 'QUEST_CLEAR':
        questIds.add(node.questId);
        return;
      case 'ACTIVITY_COUNT':
        count(node.activity, node.count);
        return;
    }
  };
  walk(condition);
  const loginDaysByMarks = instants.has(ActivityType.LOGIN);
  return { instants: [...instants].sort(), loginDaysByMarks, questIds: [...questIds].sort(), counts };
}

/**
 * Decides whether a player meets an event's condition from their recorded activities. Pure: no clock,
 * no database. A "day" is a calendar date in the event's time zone; only activities inside
 * [startAt, endAt] count; a streak is consecutive local dates inside the period. A type in `counts` (counted by
 * the store inside the period) is counted from there; any other from `activities`.
 */
export function evaluateCondition(
  condition: Condition,
  period: EventPeriod,
  activities: readonly ActivityFact[],
  counts: ActivityCounts = new Map(),
): Evaluation {
  const days = LocalDays.of(period.startAt, period.endAt, period.timezone);
  const byType = new Map<string, ActivityFact[]>();
  for (const activity of activities) {
    if (!days.contains(activity.occurredAt.getTime())) continue;
    const list = byType.get(activity.type);
    if (list) list.push(activity);
    else byType.set(activity.type, [activity]);
  }
  const countOf = (type: string): number => counts.get(type) ?? (byType.get(type) ?? []).length;
  const instantsOf = (type: string): number[] => (byType.get(type) ?? []).map((activity) => activity.occurredAt.getTime());
  const leaves: LeafProgress[] = [];

  const evaluateLeaf = (leaf: LeafCondition): LeafProgress => {
    switch (leaf.type) {
      case 'LOGIN_DAYS': {
        const current = countDistinctDays(days, instantsOf(ActivityType.LOGIN));
        return { type: leaf.type, required: leaf.days, current, met: current >= leaf.days };
      }
      case 'LOGIN_STREAK': {
        const current = longestStreak(days, instantsOf(ActivityType.LOGIN));
        return { type: leaf.type, required: leaf.days, current, met: current >= leaf.days };
      }
      case 'INVITE_FRIENDS': {
        const current = countOf(ActivityType.FRIEND_INVITE);
        return { type: leaf.type, required: leaf.count, current, met: current >= leaf.count };
      }
      case 'QUEST_CLEAR': {
        const cleared = (byType.get(ActivityType.QUEST_CLEAR) ?? []).some(
          (activity) => activity.attributes?.questId === leaf.questId,
        );
        return { type: leaf.type, required: 1, current: cleared ? 1 : 0, met: cleared, questId: leaf.questId };
      }
      case 'ACTIVITY_COUNT': {
        const current = countOf(leaf.activity);
        return { type: leaf.type, required: leaf.count, current, met: current >= leaf.count, activity: leaf.activity };
      }
    }
  };

  const evaluate = (node: Condition): boolean => {
    if (isComposite(node)) {
      // Every child is evaluated (no short-circuit) so the progress lists every leaf.
      const results = node.conditions.map(evaluate);
      return node.type === 'ALL' ? results.every(Boolean) : results.some(Boolean);
    }
    const progress = evaluateLeaf(node);
    // `current` stops at `required` (met is decided before): a count stops at the largest count any leaf
    // asks for of that type (FactPlan), so past its own requirement a leaf would show another leaf's cap.
    progress.current = Math.min(progress.current, progress.required);
    leaves.push(progress);
    return progress.met;
  };

  const eligible = evaluate(condition);
  return { eligible, conditions: leaves };
}
