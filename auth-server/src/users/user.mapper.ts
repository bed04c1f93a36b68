import type { UserResponseDto } from './dto/user-response.dto.js';
import type { UserEntity } from './user.schema.js';
import type { User, UserCredentials } from './user.js';

export function toUser(document: UserEntity): User {
  return {
    id: document._id.toHexString(),
    email: document.email,
    nickname: document.nickname ?? null,
    roles: [...document.roles],
    referralCode: document.referralCode,
    referredBy: document.referredBy ?? null,
    createdAt: document.createdAt,
    accessVersion: document.accessVersion ?? 0,
    sessionEpoch: document.sessionEpoch ?? 0,
  };
}

export function toUserCredentials(
  document: Pick<UserEntity, '_id' | 'roles' | 'passwordHash' | 'accessVersion' | 'sessionEpoch'>,
): UserCredentials {
  return {
    id: document._id.toHexString(),
    roles: [...document.roles],
    passwordHash: document.passwordHash,
    accessVersion: document.accessVersion ?? 0,
    sessionEpoch: document.sessionEpoch ?? 0,
  };
}

/** The public shape of API.md; `referredBy` stays internal. */
export function toUserResponse(user: User): UserResponseDto {
  return {
    id: user.id,
    email: user.email,
    nickname: user.nickname,
    roles: [...user.roles],
    referralCode: user.referralCode,
    createdAt: user.createdAt.toISOString(),
  };
}
