import { VISIBLE_CHARACTER } from '@reward/server-kit/validation';
import {
  ACTIVITY_TYPE_PATTERN,
  CONDITION_LIMITS,
  CONDITION_TYPES,
  type Condition,
  type ConditionType,
} from './condition.types.js';

export type ConditionValidation = { ok: true; condition: Condition } | { ok: false; errors: string[] };

const FIELDS: Record<ConditionType, readonly string[]> = {
  LOGIN_DAYS: ['type', 'days'],
  LOGIN_STREAK: ['type', 'days'],
  INVITE_FRIENDS: ['type', 'count'],
  QUEST_CLEAR: ['type', 'questId'],
  ACTIVITY_COUNT: ['type', 'activity', 'count'],
  ALL: ['type', 'conditions'],
  ANY: ['type', 'conditions'],
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a condition from an untrusted body and says precisely what is wrong and where
 * (`condition.conditions[1].days must be a positive integer`). Returns a clean copy holding only the
 * known fields.
 */
export function validateCondition(input: unknown, path = 'condition'): ConditionValidation {
  const errors: string[] = [];
  let leaves = 0;

  const positiveInt = (node: Record<string, unknown>, field: string, max: number, at: string): number => {
    const value = node[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      errors.push(`${at}.${field} must be a positive integer`);
    } else if (value > max) {
      errors.push(`${at}.${field} must be at most ${max}`);
    }
    return value as number;
  };

  const visit = (node: unknown, at: string, depth: number): Condition | undefined => {
    if (!isPlainObject(node)) {
      errors.push(`${at} must be an object with a "type"`);
      return undefined;
    }
    const type = node.type;
    if (typeof type !== 'string' || !(CONDITION_TYPES as readonly string[]).includes(type)) {
      errors.push(
        `${at}.type must be one of ${CONDITION_TYPES.join(', ')}${typeof type === 'string' ? `, got "${type.slice(0, 40)}"` : ''}`,
      );
      return undefined;
    }
    const conditionType = type as ConditionType;
    for (const key of Object.keys(node)) {
      if (!FIELDS[conditionType].includes(key)) errors.push(`${at}.${key} is not allowed for ${conditionType}`);
    }
    if (depth > CONDITION_LIMITS.maxDepth) {
      errors.push(
        `${at} is nested too deeply (at most ${CONDITION_LIMITS.maxDepth} levels: the top condition is level 1, each ALL/ANY adds one)`,
      );
      return undefined;
    }
    switch (conditionType) {
      case 'ALL':
      case 'ANY': {
        const children = node.conditions;
        if (!Array.isArray(children) || children.length === 0) {
          errors.push(`${at}.conditions must be a non-empty array of conditions`);
          return undefined;
        }
        if (children.length > CONDITION_LIMITS.maxLeaves) {
          errors.push(`${at}.conditions may hold at most ${CONDITION_LIMITS.maxLeaves} conditions`);
          return undefined;
        }
        const parsed = children.map((child, index) => visit(child, `${at}.conditions[${index}]`, depth + 1));
        return { type: conditionType, conditions: parsed as Condition[] };
      }
      case 'LOGIN_DAYS':
      case 'LOGIN_STREAK':
        leaves += 1;
        return { type: conditionType, days: positiveInt(node, 'days', CONDITION_LIMITS.maxDays, at) };
      case 'INVITE_FRIENDS':
        leaves += 1;
        return { type: conditionType, count: positiveInt(node, 'count', CONDITION_LIMITS.maxCount, at) };
      case 'QUEST_CLEAR': {
        leaves += 1;
        // Compared with the imported clears' questId, which is stored in NFC too: a quest named in Hangul or
        // with accents matches however the operator's or the game's tooling composed it (macOS and many
        // spreadsheets write NFD, where 한 is three jamo), instead of never matching anyone. Bounded as stored.
        const questId = typeof node.questId === 'string' ? node.questId.normalize('NFC') : node.questId;
        // Not only spaces or invisible characters (a zero-width space), as a title or a reward's name: such an id
        // is a paste slip no game reports on purpose.
        if (
          typeof questId !== 'string' ||
          !VISIBLE_CHARACTER.test(questId) ||
          questId.length > CONDITION_LIMITS.maxQuestIdLength
        ) {
          errors.push(`${at}.questId must be a non-empty string of at most ${CONDITION_LIMITS.maxQuestIdLength} characters`);
        }
        return { type: conditionType, questId: questId as string };
      }
      case 'ACTIVITY_COUNT': {
        leaves += 1;
        const activity = node.activity;
        if (typeof activity !== 'string' || !ACTIVITY_TYPE_PATTERN.test(activity)) {
          errors.push(`${at}.activity must be an upper-case activity type such as BOSS_KILL`);
        }
        return {
          type: conditionType,
          activity: activity as string,
          count: positiveInt(node, 'count', CONDITION_LIMITS.maxCount, at),
        };
      }
    }
  };

  const condition = visit(input, path, 1);
  if (leaves > CONDITION_LIMITS.maxLeaves) {
    errors.push(`${path} has ${leaves} leaf conditions; at most ${CONDITION_LIMITS.maxLeaves} are allowed`);
  }
  if (errors.length > 0 || !condition) return { ok: false, errors: errors.length > 0 ? errors : [`${path} is invalid`] };
  return { ok: true, condition };
}
