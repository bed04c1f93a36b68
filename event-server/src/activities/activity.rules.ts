import { randomUUID } from 'node:crypto';
import { CommonErrorCode, DomainError } from '@reward/server-kit/errors';
import { ActivityType } from '../conditions/condition.types.js';
import type { ActivityInputDto } from './dto/activity-input.dto.js';

/** Clock skew tolerated between a game server and us before "in the future" is refused. */
export const FUTURE_TOLERANCE_MS = 5_000;
/** Attributes are small facts (a quest id, a stage), not documents. */
export const MAX_ATTRIBUTES_BYTES = 4_096;

/**
 * Why a nested value cannot be stored as activity attributes, or undefined when it can: keys that stores
 * refuse or read as operators/paths, arrays directly inside arrays (FerretDB v1 refuses those), and numbers
 * too large for a double.
 */
export function attributesProblem(value: unknown, depth = 0, insideArray = false): string | undefined {
  if (depth > 20) return 'must not nest deeper than 20 levels';
  if (Array.isArray(value)) {
    if (insideArray) return 'must not hold an array directly inside an array';
    for (const element of value) {
      const problem = attributesProblem(element, depth + 1, true);
      if (problem) return problem;
    }
    return undefined;
  }
  // JSON has no infinity, but a number too large for a double (1e309) parses as one, which no store keeps.
  if (typeof value === 'number' && !Number.isFinite(value)) return 'must hold only finite numbers (at most about 1.8e308)';
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, nested] of Object.entries(value)) {
    if (key === '' || key.startsWith('$') || key.includes('.') || key.includes('\0')) {
      return 'keys (at any depth) must be non-empty, not start with $ and contain no dot';
    }
    const problem = attributesProblem(nested, depth + 1, false);
    if (problem) return problem;
  }
  return undefined;
}

export interface PreparedActivity {
  userId: string;
  type: string;
  occurredAt: Date;
  attributes?: Record<string, unknown>;
  externalId: string;
}

/**
 * Checks the rules class-validator cannot express, for every item before anything is written, and
 * names each bad item by its place in the batch (`items[3].occurredAt ...`).
 */
export function prepareActivities(items: ActivityInputDto[], now: Date, label: (index: number) => string): PreparedActivity[] {
  const problems: string[] = [];
  const prepared = items.map((item, index) => {
    const at = label(index);
    const occurredAt = item.occurredAt ? new Date(item.occurredAt) : now;
    if (occurredAt.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) problems.push(`${at}occurredAt must not be in the future`);
    if (item.type === ActivityType.QUEST_CLEAR) {
      const questId = item.attributes?.questId;
      if (typeof questId !== 'string' || questId.trim().length === 0) {
        problems.push(`${at}attributes.questId is required for a QUEST_CLEAR activity`);
      }
    }
    if (item.attributes && Buffer.byteLength(JSON.stringify(item.attributes), 'utf8') > MAX_ATTRIBUTES_BYTES) {
      problems.push(`${at}attributes must be at most ${MAX_ATTRIBUTES_BYTES} bytes of JSON`);
    }
    const attributesIssue = item.attributes && attributesProblem(item.attributes);
    if (attributesIssue) problems.push(`${at}attributes ${attributesIssue}`);
    return {
      userId: item.userId.toLowerCase(),
      type: item.type,
      occurredAt,
      ...(item.attributes !== undefined && { attributes: item.attributes }),
      externalId: item.externalId ?? `generated:${randomUUID()}`,
    };
  });
  if (problems.length > 0) throw new DomainError(400, CommonErrorCode.VALIDATION_FAILED, problems);
  return prepared;
}
