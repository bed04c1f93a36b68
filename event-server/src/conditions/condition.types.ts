/** The condition DSL of API.md: leaves on player behaviour, combined by ALL / ANY (nestable). */
export type LeafCondition =
  | { type: 'LOGIN_DAYS'; days: number }
  | { type: 'LOGIN_STREAK'; days: number }
  | { type: 'INVITE_FRIENDS'; count: number }
  | { type: 'QUEST_CLEAR'; questId: string }
  | { type: 'ACTIVITY_COUNT'; activity: string; count: number };

export type CompositeCondition = { type: 'ALL' | 'ANY'; conditions: Condition[] };

export type Condition = LeafCondition | CompositeCondition;

export type ConditionType = Condition['type'];

export const LEAF_TYPES = ['LOGIN_DAYS', 'LOGIN_STREAK', 'INVITE_FRIENDS', 'QUEST_CLEAR', 'ACTIVITY_COUNT'] as const;
export const COMPOSITE_TYPES = ['ALL', 'ANY'] as const;
export const CONDITION_TYPES: readonly ConditionType[] = [...LEAF_TYPES, ...COMPOSITE_TYPES];

/** Activity types the platform itself records (the auth server sends them) or that a leaf reads. */
export const ActivityType = {
  LOGIN: 'LOGIN',
  FRIEND_INVITE: 'FRIEND_INVITE',
  QUEST_CLEAR: 'QUEST_CLEAR',
} as const;

/** An activity type is an upper-case word: LOGIN, FRIEND_INVITE, BOSS_KILL_2. */
export const ACTIVITY_TYPE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

/** Bounds that keep a hostile condition from making evaluation or storage expensive. */
export const CONDITION_LIMITS = {
  maxDepth: 5,
  maxLeaves: 20,
  maxCount: 1_000_000,
  maxDays: 3_660,
  maxQuestIdLength: 128,
} as const;

export function isComposite(condition: Condition): condition is CompositeCondition {
  return condition.type === 'ALL' || condition.type === 'ANY';
}
