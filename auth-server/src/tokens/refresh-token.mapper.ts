import type { RefreshToken } from './refresh-token.js';
import type { RefreshTokenEntity } from './refresh-token.schema.js';

export function toRefreshToken(document: RefreshTokenEntity): RefreshToken {
  return {
    id: document._id.toHexString(),
    userId: document.userId,
    familyId: document.familyId,
    parentId: document.parentId ?? null,
    sessionEpoch: document.sessionEpoch ?? 0,
    expiresAt: document.expiresAt,
    createdAt: document.createdAt,
  };
}
