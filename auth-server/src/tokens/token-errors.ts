import { DomainError } from '@reward/server-kit/errors';

export const TokenErrorCode = {
  INVALID_CREDENTIALS: 'INVALID_CREDENTIALS',
  INVALID_REFRESH_TOKEN: 'INVALID_REFRESH_TOKEN',
  REFRESH_TOKEN_REUSED: 'REFRESH_TOKEN_REUSED',
  AUTH_BUSY: 'AUTH_BUSY',
} as const;

export type RefreshRejection = typeof TokenErrorCode.INVALID_REFRESH_TOKEN | typeof TokenErrorCode.REFRESH_TOKEN_REUSED;

/** A sign-in or registration shed by the password gate (see PasswordHasher): nothing was done. */
export const authBusy = (retryAfterSeconds: number): DomainError =>
  new DomainError(
    503,
    TokenErrorCode.AUTH_BUSY,
    'Too many sign-ins and registrations are being processed; nothing was done, retry after Retry-After',
    { retryAfterSeconds },
  );

/** One answer for an unknown email and a wrong password: nothing tells which accounts exist. */
export const invalidCredentials = (): DomainError =>
  new DomainError(401, TokenErrorCode.INVALID_CREDENTIALS, 'Email or password is incorrect');

export function refreshRejected(code: RefreshRejection): DomainError {
  return code === TokenErrorCode.REFRESH_TOKEN_REUSED
    ? new DomainError(401, code, 'Refresh token was already used; every session of this login has been revoked')
    : new DomainError(401, code, 'Refresh token is invalid, expired or revoked');
}
