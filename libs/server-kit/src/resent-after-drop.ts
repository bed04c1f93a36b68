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

/**
 * On an event server's answer: this keyed claim was answered 409 IDEMPOTENCY_IN_PROGRESS, so its client is owed the
 * key's outcome. On a request, set by the gateway, and only by it, on the next send of such a key: whichever replica
 * it reaches answers it for its key (its stored outcome, read outside the claims gate and counted against the
 * player's claim rate, as OwedAnswers does for a key the same process answered so) instead of shedding it 503
 * CLAIMS_BUSY "nothing was recorded". Without it, the keys a replica killed mid-burst had told to come back were
 * shed by the survivor for as long as the crowd lasted: in a 10,000-player drill some winners learnt of their grant
 * 4-5 minutes after it was recorded. The gateway removes the header from every client request (`x-internal-*`)
 * and from every answer to a client.
 */
export const ANSWER_OWED_HEADER = 'x-internal-answer-owed';

/** Whether the gateway says this keyed claim is owed its key's outcome (see ANSWER_OWED_HEADER). */
export function isAnswerOwed(headers: Record<string, string | string[] | undefined>): boolean {
  return headers[ANSWER_OWED_HEADER] === '1' && headers['idempotency-key'] !== undefined;
}
