import type { IdempotencyState, StoredError } from './idempotency-key.schema.js';

export interface IdempotencyRecord {
  id: string;
  userId: string;
  key: string;
  requestHash: string;
  state: IdempotencyState;
  result?: Record<string, unknown>;
  error?: StoredError;
  /** DONE with neither result nor error: the outcome is the use's own record under the lineage (see schema). */
  recorded?: true;
  createdAt: Date;
  /** The process that took the key, when it records that it is alive. */
  owner?: string;
  /**
   * The key's use: the id of the document its first request inserted, kept when the key is taken over, or,
   * after a claim the reconciler rejected as INTERRUPTED, that claim's id (RetryUnder). Whatever the use
   * records is recorded once under it (see keyedClaimId).
   */
  lineage: string;
  /** False for a key stored before lineages were (its lineage is its own id, and its claim's id is random). */
  lineageStored: boolean;
}

/** A finished request's outcome: what its use case returned, or the refusal it threw. */
export type StoredOutcome = { result: Record<string, unknown> } | { error: StoredError };
