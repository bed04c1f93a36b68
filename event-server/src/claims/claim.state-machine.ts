/**
 * The claim state machine, free of Nest and Mongoose. PROCESSING is internal: a claim is inserted in it
 * (holding the user's slot) and leaves it by exactly one decision.
 */
export const CLAIM_STATUSES = ['PROCESSING', 'GRANTED', 'PENDING', 'REJECTED', 'REVOKED'] as const;
export type ClaimStatus = (typeof CLAIM_STATUSES)[number];
export const PUBLIC_CLAIM_STATUSES = ['GRANTED', 'PENDING', 'REJECTED', 'REVOKED'] as const;
export type PublicClaimStatus = (typeof PUBLIC_CLAIM_STATUSES)[number];

export const CLAIM_REASONS = [
  'EVENT_NOT_ACTIVE',
  'CONDITION_NOT_MET',
  'OUT_OF_STOCK',
  'ALREADY_CLAIMED',
  'INTERRUPTED',
  'REVIEW_REJECTED',
] as const;
export type ClaimReason = (typeof CLAIM_REASONS)[number];

/** Rejections made by the system: they never hold the slot, so the user may claim again. */
export const SYSTEM_REJECTIONS: readonly ClaimReason[] = [
  'EVENT_NOT_ACTIVE',
  'CONDITION_NOT_MET',
  'OUT_OF_STOCK',
  'ALREADY_CLAIMED',
  'INTERRUPTED',
];

export type ClaimAction = 'GRANT' | 'HOLD_FOR_REVIEW' | 'FAIL' | 'APPROVE' | 'REJECT' | 'REVOKE';

export interface Transition {
  from: ClaimStatus;
  to: ClaimStatus;
}

const TRANSITIONS: Record<ClaimAction, Transition> = {
  GRANT: { from: 'PROCESSING', to: 'GRANTED' },
  HOLD_FOR_REVIEW: { from: 'PROCESSING', to: 'PENDING' },
  FAIL: { from: 'PROCESSING', to: 'REJECTED' },
  APPROVE: { from: 'PENDING', to: 'GRANTED' },
  REJECT: { from: 'PENDING', to: 'REJECTED' },
  REVOKE: { from: 'GRANTED', to: 'REVOKED' },
};

/** The transition an action makes (from the one status it leaves). */
export function transitionOf(action: ClaimAction): Transition {
  return TRANSITIONS[action];
}

/** The transition an action makes from the claim's current status, or undefined when it does not fit. */
export function transitionFor(action: ClaimAction, current: ClaimStatus): Transition | undefined {
  const transition = TRANSITIONS[action];
  return transition.from === current ? transition : undefined;
}

/** Whether a status counts against stock (its units stay taken). */
export function holdsStock(status: ClaimStatus): boolean {
  return status === 'PROCESSING' || status === 'GRANTED' || status === 'PENDING';
}

/** Entering this status gives the claim's units back. */
export function releasesStock(to: ClaimStatus): boolean {
  return to === 'REJECTED' || to === 'REVOKED';
}

/** Whether a claim in this status (with this reason) keeps the user's slot for the event. */
export function holdsSlot(status: ClaimStatus, reason?: ClaimReason): boolean {
  if (status === 'REJECTED') return reason !== undefined && !SYSTEM_REJECTIONS.includes(reason);
  return true;
}

export function slotKeyOf(eventId: string, userId: string): string {
  return `${eventId}:${userId}`;
}

export function ownSlotKey(claimId: string): string {
  return `own:${claimId}`;
}
