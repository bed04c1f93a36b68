import { randomUUID } from 'node:crypto';
import { CommonErrorCode, DomainError } from '@reward/server-kit/errors';
import { VISIBLE_CHARACTER } from '@reward/server-kit/validation';
import { ActivityType, CONDITION_LIMITS } from '../conditions/condition.types.js';
import { freeFormProblem } from '../common/free-form.rules.js';
import type { ActivityInputDto } from './dto/activity-input.dto.js';

/** Clock skew tolerated between a game server and us before "in the future" is refused. */
export const FUTURE_TOLERANCE_MS = 5_000;
/** Attributes are small facts (a quest id, a stage), not documents. */
export const MAX_ATTRIBUTES_BYTES = 4_096;

export interface PreparedActivity {
  userId: string;
  type: string;
  occurredAt: Date;
  attributes?: Record<string, unknown>;
  externalId: string;
}

/** The externalId prefix of the activities the auth server records (LOGIN, FRIEND_INVITE). */
export const SERVICE_ID_PREFIX = 'auth:';

/**
 * Checks the rules class-validator cannot express, for every item before anything is written, and
 * names each bad item by its place in the batch (`items[3].occurredAt ...`).
 */
export function prepareActivities(
  items: ActivityInputDto[],
  now: Date,
  label: (index: number) => string,
  { fromService = false }: { fromService?: boolean } = {},
): PreparedActivity[] {
  const problems: string[] = [];
  const prepared = items.map((item, index) => {
    const at = label(index);
    // The platform's own activities are keyed `auth:...` (an invite's key is its invitee's id, easy to guess):
    // an import under such a key would take the place of a login or an invite still to be recorded.
    if (!fromService && item.externalId?.toLowerCase().startsWith(SERVICE_ID_PREFIX)) {
      problems.push(`${at}externalId must not start with "${SERVICE_ID_PREFIX}" (the platform's own activities use it)`);
    }
    const occurredAt = item.occurredAt ? new Date(item.occurredAt) : now;
    if (occurredAt.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) problems.push(`${at}occurredAt must not be in the future`);
    if (item.type === ActivityType.QUEST_CLEAR) {
      const problem = questIdProblem(item.attributes?.questId);
      if (problem) problems.push(`${at}attributes.questId ${problem}`);
    }
    if (item.attributes && Buffer.byteLength(JSON.stringify(item.attributes), 'utf8') > MAX_ATTRIBUTES_BYTES) {
      problems.push(`${at}attributes must be at most ${MAX_ATTRIBUTES_BYTES} bytes of JSON`);
    }
    const attributesIssue = item.attributes && freeFormProblem(item.attributes);
    if (attributesIssue) problems.push(`${at}attributes ${attributesIssue}`);
    return {
      userId: item.userId.toLowerCase(),
      type: item.type,
      occurredAt,
      ...(item.attributes !== undefined && { attributes: withComposedQuestId(item.type, item.attributes) }),
      externalId: item.externalId ?? `generated:${randomUUID()}`,
    };
  });
  if (problems.length > 0) throw new DomainError(400, CommonErrorCode.VALIDATION_FAILED, problems);
  return prepared;
}

/**
 * What is wrong with a clear's questId, if anything. It names a quest as a QUEST_CLEAR condition's questId does:
 * text with a visible character (only spaces or invisible characters, a zero-width space, name no quest), at most
 * CONDITION_LIMITS.maxQuestIdLength characters once in NFC (as both are stored): a longer one was stored, and its
 * import answered 201, though no condition could ever ask for it, so the clear never counted.
 */
function questIdProblem(questId: unknown): string | undefined {
  if (questId === undefined) return 'is required for a QUEST_CLEAR activity';
  if (typeof questId !== 'string') {
    const kind =
      questId === null
        ? 'null'
        : Array.isArray(questId)
          ? 'an array'
          : typeof questId === 'object'
            ? 'an object'
            : `a ${typeof questId}`;
    return `must be a string, not ${kind}`;
  }
  if (!VISIBLE_CHARACTER.test(questId)) return 'is required for a QUEST_CLEAR activity';
  if (questId.normalize('NFC').length > CONDITION_LIMITS.maxQuestIdLength) {
    return `must be at most ${CONDITION_LIMITS.maxQuestIdLength} characters, as a QUEST_CLEAR condition's questId is`;
  }
  return undefined;
}

/**
 * A clear's questId in Unicode NFC, as a QUEST_CLEAR condition's questId is stored: the condition matches it
 * exactly, and the same quest name typed or exported in another composition (NFD from macOS tools and
 * spreadsheets: 한 as three jamo, é as e + U+0301) would otherwise never count.
 */
function withComposedQuestId(type: string, attributes: Record<string, unknown>): Record<string, unknown> {
  const questId = attributes.questId;
  if (type !== ActivityType.QUEST_CLEAR || typeof questId !== 'string') return attributes;
  const composed = questId.normalize('NFC');
  return composed === questId ? attributes : { ...attributes, questId: composed };
}
