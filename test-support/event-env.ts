/**
 * The event server's claim queue in tests: no time limit and room for any burst a test makes, so that a
 * busy test machine does not turn a slow claim into a shed one; and no per-player claim rate, since tests tap
 * as one player many times at once. Tests of the shedding and of the rate set their own.
 */
export const UNHURRIED_CLAIM_QUEUE = {
  CLAIM_QUEUE_TIMEOUT_MS: '60000',
  CLAIM_MAX_QUEUED: '100000',
  CLAIM_PLAYER_BURST: '0',
} as const;
