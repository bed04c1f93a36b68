import { Injectable } from '@nestjs/common';

/** The points between two writes of the claim path where a crash must leave nothing the reconciler cannot fix. */
export const CLAIM_STEPS = [
  // A request with an Idempotency-Key has taken its key and recorded nothing else yet.
  'key-taken',
  'intent-inserted',
  'unit-taken',
  'decision-inserted',
  'claim-projected',
  'units-released',
  'claim-finished',
] as const;
export type ClaimStep = (typeof CLAIM_STEPS)[number];

/**
 * Fault-injection seam: a no-op in production; tests replace `at` to throw at one step, which is what a
 * process dying there looks like to the database.
 */
@Injectable()
export class ClaimFaults {
  async at(_step: ClaimStep): Promise<void> {}
}
