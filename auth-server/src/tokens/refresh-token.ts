import { createHash, createHmac, randomBytes } from 'node:crypto';

/** A stored refresh token: the token itself is never stored, only its SHA-256. */
export interface RefreshToken {
  id: string;
  userId: string;
  /** Every token descending from one login; revoking the family ends that login everywhere. */
  familyId: string;
  /** The token this one replaced; null for the first token of a login. */
  parentId: string | null;
  /** The user's session epoch when the login began; "log out everywhere" makes older epochs unusable. */
  sessionEpoch: number;
  expiresAt: Date;
  createdAt: Date;
}

/**
 * A token to store: its hash, and until when its row must stay (`keepUntil`, at least its expiry): a successor's
 * row holds its parent's one-successor place, so it stays as long as the parent could be presented (a successor
 * issued under a lifetime lowered since expires before its parent); see keepRowUntil.
 */
export type NewRefreshToken = RefreshToken & { tokenHash: string; keepUntil: Date };

/** Until when a token's row must stay: its own expiry, or its parent's if that is later. */
export function keepRowUntil(expiresAt: Date, parent?: { expiresAt: Date }): Date {
  return parent && parent.expiresAt.getTime() > expiresAt.getTime() ? parent.expiresAt : expiresAt;
}

/** 32 random bytes, base64url: opaque, unguessable, and useless to whoever reads the database. */
export function generateRefreshTokenValue(): string {
  return randomBytes(32).toString('base64url');
}

/** A plain SHA-256 suffices (no salt, no bcrypt): the input is 256 random bits, not a password. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/**
 * The successor a refresh sent with an Idempotency-Key makes: the same for every request that presents this token
 * under this key, so a retry of a refresh whose answer was lost is answered the token the first request stored
 * (see keyedRetryVerdict). Keyed with the server's secret: nobody can work out a successor without the server.
 * 32 bytes, base64url, like a random token.
 */
export function keyedSuccessorValue(secret: Buffer, presentedToken: string, idempotencyKey: string): string {
  return createHmac('sha256', secret).update(`${presentedToken}\n${idempotencyKey}`, 'utf8').digest('base64url');
}
