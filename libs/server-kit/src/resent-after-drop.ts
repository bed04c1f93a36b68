/**
 * Set by the gateway, and only by it, on a request it sends to a second replica because the first one
 * dropped the connection without answering (a claim with an Idempotency-Key: gateway/src/proxy/replica-pool.ts).
 * The first replica may have recorded the claim before it died, so the second must answer for the key (the
 * recorded outcome, IDEMPOTENCY_IN_PROGRESS or a new decision) rather than shed the request with 503
 * CLAIMS_BUSY, which tells a client that nothing was recorded. The gateway removes this header from every
 * client request (all `x-internal-*` headers are spoofable there), and only the gateway is published
 * (anything else on the servers' network could set it). What it changes at an event server, only for a
 * request with a key that is already stored: the claim is not shed and runs beyond the claims gate's limit
 * (past its start-by time, START_BY_HEADER, it is answered for its key without a decision instead). For any
 * such request: it does not count against the player's claim rate (it is the first replica's request).
 */
export const RESENT_AFTER_DROP_HEADER = 'x-internal-resent-after-drop';

/** Whether the gateway sent a request on after another replica dropped it (see RESENT_AFTER_DROP_HEADER). */
export function wasSentOnAfterDrop(headers: Record<string, string | string[] | undefined>): boolean {
  return headers[RESENT_AFTER_DROP_HEADER] === '1';
}

/** Whether a request is a keyed request the gateway resent after a drop (see RESENT_AFTER_DROP_HEADER). */
export function isResentAfterDrop(headers: Record<string, string | string[] | undefined>): boolean {
  return wasSentOnAfterDrop(headers) && headers['idempotency-key'] !== undefined;
}
