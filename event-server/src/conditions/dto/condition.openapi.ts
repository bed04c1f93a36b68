import { getSchemaPath } from '@nestjs/swagger';
import { ACTIVITY_TYPE_PATTERN, CONDITION_LIMITS } from '../condition.types.js';

/**
 * The condition DSL as OpenAPI schemas: one schema per leaf, the ALL/ANY composite referring back to
 * `Condition`, and `Condition` itself a oneOf discriminated by `type`. The limits are the validator's.
 */
const positiveInt = (max: number): Record<string, unknown> => ({ type: 'integer', minimum: 1, maximum: max });
const leaf = (type: string, fields: Record<string, unknown>, description: string): Record<string, unknown> => ({
  type: 'object',
  description,
  required: ['type', ...Object.keys(fields)],
  additionalProperties: false,
  properties: { type: { type: 'string', enum: [type] }, ...fields },
});

export const CONDITION_SCHEMA_NAME = 'Condition';

const LEAVES: Record<string, { type: string; schema: Record<string, unknown> }> = {
  LoginDaysCondition: {
    type: 'LOGIN_DAYS',
    schema: leaf(
      'LOGIN_DAYS',
      { days: positiveInt(CONDITION_LIMITS.maxDays) },
      'Logged in on at least `days` distinct local days within the event period',
    ),
  },
  LoginStreakCondition: {
    type: 'LOGIN_STREAK',
    schema: leaf(
      'LOGIN_STREAK',
      { days: positiveInt(CONDITION_LIMITS.maxDays) },
      'Logged in on `days` consecutive local days within the event period',
    ),
  },
  InviteFriendsCondition: {
    type: 'INVITE_FRIENDS',
    schema: leaf(
      'INVITE_FRIENDS',
      { count: positiveInt(CONDITION_LIMITS.maxCount) },
      "At least `count` friends registered with the user's referral code within the event period",
    ),
  },
  QuestClearCondition: {
    type: 'QUEST_CLEAR',
    schema: leaf(
      'QUEST_CLEAR',
      { questId: { type: 'string', minLength: 1, maxLength: CONDITION_LIMITS.maxQuestIdLength, example: 'main-quest-3' } },
      'A QUEST_CLEAR activity with this `questId` within the event period',
    ),
  },
  ActivityCountCondition: {
    type: 'ACTIVITY_COUNT',
    schema: leaf(
      'ACTIVITY_COUNT',
      {
        activity: { type: 'string', pattern: ACTIVITY_TYPE_PATTERN.source, example: 'BOSS_KILL' },
        count: positiveInt(CONDITION_LIMITS.maxCount),
      },
      'At least `count` activities of type `activity` within the event period',
    ),
  },
};

const COMPOSITE = 'CompositeCondition';

/** What "depth 5" counts, in the words the validator (condition.validator.ts) applies it. */
export const DEPTH_RULE =
  `Depth counts condition objects from the top: the event's \`condition\` is level 1 and each ALL/ANY puts its ` +
  `\`conditions\` one level deeper; a condition (leaf or ALL/ANY) deeper than level ${CONDITION_LIMITS.maxDepth} is refused ` +
  `(400). So at most ${CONDITION_LIMITS.maxDepth - 1} ALL/ANY can be nested around a leaf: ` +
  `ALL > ANY > ALL > ANY > LOGIN_DAYS is the deepest accepted chain.`;

/** Every schema of the DSL, to add to the document's components. */
export const CONDITION_SCHEMAS: Record<string, Record<string, unknown>> = {
  ...Object.fromEntries(Object.entries(LEAVES).map(([name, { schema }]) => [name, schema])),
  [COMPOSITE]: {
    type: 'object',
    description:
      `ALL: every sub-condition holds; ANY: at least one does. ${DEPTH_RULE} At most ${CONDITION_LIMITS.maxLeaves} ` +
      `entries in one \`conditions\` list and at most ${CONDITION_LIMITS.maxLeaves} leaf (non-ALL/ANY) conditions in the whole tree.`,
    required: ['type', 'conditions'],
    additionalProperties: false,
    properties: {
      type: { type: 'string', enum: ['ALL', 'ANY'] },
      conditions: {
        type: 'array',
        minItems: 1,
        maxItems: CONDITION_LIMITS.maxLeaves,
        items: { $ref: getSchemaPath(CONDITION_SCHEMA_NAME) },
      },
    },
  },
  [CONDITION_SCHEMA_NAME]: {
    description: `What a player must have done within the event period to claim its rewards. ${DEPTH_RULE}`,
    oneOf: [...Object.keys(LEAVES), COMPOSITE].map((name) => ({ $ref: getSchemaPath(name) })),
    discriminator: {
      propertyName: 'type',
      mapping: {
        ...Object.fromEntries(Object.entries(LEAVES).map(([name, { type }]) => [type, getSchemaPath(name)])),
        ALL: getSchemaPath(COMPOSITE),
        ANY: getSchemaPath(COMPOSITE),
      },
    },
    example: {
      type: 'ALL',
      conditions: [
        { type: 'LOGIN_DAYS', days: 3 },
        { type: 'INVITE_FRIENDS', count: 1 },
      ],
    },
  },
};

/** A property holding a condition. */
export const CONDITION_PROPERTY = { allOf: [{ $ref: getSchemaPath(CONDITION_SCHEMA_NAME) }] };
