/** An owner is dead once it has not beaten for this many of its heartbeats... */
export const MISSED_BEATS_FOR_DEAD = 5;
/** ...and never sooner than this, whatever its rhythm (clocks of replicas differ a little). */
export const MIN_SILENCE_FOR_DEAD_MS = 3_000;
/** A process whose last successful beat is older than this many heartbeats names itself on no new key. */
export const MISSED_BEATS_FOR_NO_OWNER = 2;

/** What a key's owner last recorded: when, and how often it beats. */
export interface Beat {
  beatAt: Date;
  heartbeatMs: number;
}

/**
 * Whether the owner of a key is dead: no record of it (a record is written before the owner names itself
 * on any key, so it was pruned after a day of silence), or silent for MISSED_BEATS_FOR_DEAD of its own
 * heartbeats and at least MIN_SILENCE_FOR_DEAD_MS, by the reader's clock.
 */
export function isOwnerDead(beat: Beat | undefined, now: number): boolean {
  if (beat === undefined) return true;
  const silentForMs = now - beat.beatAt.getTime();
  return silentForMs > Math.max(MISSED_BEATS_FOR_DEAD * beat.heartbeatMs, MIN_SILENCE_FOR_DEAD_MS);
}
