/**
 * The event server's claim queue in tests: no time limit and room for any burst a test makes, so that a
 * busy test machine does not turn a slow claim into a shed one. Tests of the shedding itself set their own.
 */
export const UNHURRIED_CLAIM_QUEUE = { CLAIM_QUEUE_TIMEOUT_MS: '60000', CLAIM_MAX_QUEUED: '100000' } as const;
