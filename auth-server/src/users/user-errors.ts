import { DomainError } from '@reward/server-kit/errors';

export const UserErrorCode = {
  EMAIL_TAKEN: 'EMAIL_TAKEN',
  INVALID_REFERRAL_CODE: 'INVALID_REFERRAL_CODE',
  USER_NOT_FOUND: 'USER_NOT_FOUND',
} as const;

export const emailTaken = (): DomainError =>
  new DomainError(409, UserErrorCode.EMAIL_TAKEN, 'An account with this email already exists');

export const invalidReferralCode = (): DomainError =>
  new DomainError(400, UserErrorCode.INVALID_REFERRAL_CODE, 'referralCode does not belong to any user');

export const userNotFound = (id: string): DomainError =>
  new DomainError(404, UserErrorCode.USER_NOT_FOUND, `User ${id} not found`);
