import { CommonErrorCode, DomainError } from '@reward/server-kit/errors';
import { Role, requiresRolesMessage } from '@reward/server-kit/roles';

export const UserErrorCode = {
  EMAIL_TAKEN: 'EMAIL_TAKEN',
  INVALID_REFERRAL_CODE: 'INVALID_REFERRAL_CODE',
  USER_NOT_FOUND: 'USER_NOT_FOUND',
  LAST_ADMIN: 'LAST_ADMIN',
  WRONG_PASSWORD: 'WRONG_PASSWORD',
} as const;

export const lastAdmin = (): DomainError =>
  new DomainError(409, UserErrorCode.LAST_ADMIN, 'This change would leave the platform without an ADMIN');

export const notAdminAnymore = (): DomainError =>
  new DomainError(403, CommonErrorCode.FORBIDDEN, requiresRolesMessage([Role.ADMIN]));

export const emailTaken = (): DomainError =>
  new DomainError(409, UserErrorCode.EMAIL_TAKEN, 'An account with this email already exists');

export const invalidReferralCode = (): DomainError =>
  new DomainError(400, UserErrorCode.INVALID_REFERRAL_CODE, 'referralCode does not belong to any user');

export const userNotFound = (id: string): DomainError =>
  new DomainError(404, UserErrorCode.USER_NOT_FOUND, `User ${id} not found`);

export const wrongPassword = (): DomainError =>
  new DomainError(403, UserErrorCode.WRONG_PASSWORD, "currentPassword is not the account's password");
