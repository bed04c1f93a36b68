import { DomainError } from '@reward/server-kit/errors';

export const ClaimErrorCode = {
  CLAIM_NOT_FOUND: 'CLAIM_NOT_FOUND',
  INVALID_TRANSITION: 'INVALID_TRANSITION',
  EVENT_NOT_ACTIVE: 'EVENT_NOT_ACTIVE',
  CONDITION_NOT_MET: 'CONDITION_NOT_MET',
  OUT_OF_STOCK: 'OUT_OF_STOCK',
  ALREADY_CLAIMED: 'ALREADY_CLAIMED',
  CLAIM_INTERRUPTED: 'CLAIM_INTERRUPTED',
  CLAIMS_BUSY: 'CLAIMS_BUSY',
  EXPORTS_BUSY: 'EXPORTS_BUSY',
  REVIEWS_BUSY: 'REVIEWS_BUSY',
} as const;
export type ClaimErrorCode = (typeof ClaimErrorCode)[keyof typeof ClaimErrorCode];

/** The one table from a claim code to its HTTP status. */
export const CLAIM_ERROR_STATUS: Record<ClaimErrorCode, number> = {
  CLAIM_NOT_FOUND: 404,
  INVALID_TRANSITION: 409,
  EVENT_NOT_ACTIVE: 422,
  CONDITION_NOT_MET: 422,
  OUT_OF_STOCK: 409,
  ALREADY_CLAIMED: 409,
  // The request lost to the reconciler, or was shed before anything was recorded: retry (Retry-After).
  CLAIM_INTERRUPTED: 503,
  CLAIMS_BUSY: 503,
  // As many CSV exports as the server streams at once are running: retry (Retry-After).
  EXPORTS_BUSY: 503,
  // As many review decisions as the server makes at once are running, and its queue is full: retry (Retry-After).
  REVIEWS_BUSY: 503,
};

/** A claim error with the status the table gives its code. */
export function claimError(code: ClaimErrorCode, message: string, details?: Record<string, unknown>): DomainError {
  return new DomainError(CLAIM_ERROR_STATUS[code], code, message, details);
}

/** Seconds a 503 of the claim path asks the client to wait: the shed claim's own estimate, else 1. */
export function retryAfterOf(error: DomainError): number {
  const seconds = error.details?.retryAfterSeconds;
  return typeof seconds === 'number' ? seconds : 1;
}
