/** How many logins a process keeps a pace for before it forgets those that may refresh in full again. */
export const REFRESH_PACE_LOGINS_KEPT = 100_000;

interface Bucket {
  /** Refreshes the login may make now, at `at` (fractions refill). */
  tokens: number;
  at: number;
}

/**
 * How often each login (a refresh-token family) may refresh, in this process: `burst` refreshes at once, then one
 * per `intervalMs` (a token bucket per login). Every refresh inserts a row that is kept for the refresh-token
 * lifetime (30 days), so a client refreshing in a loop wrote hundreds of rows a second for one account, and on a
 * store that reads whole collections every later refresh read them all. Only refreshes that rotated spend
 * (TokensService.refresh): a keyed retry answered again and a reuse that revokes the login write nothing.
 *
 * Per process, like the other per-client limits: with n auth replicas a login may refresh n times as often. The
 * logins kept are bounded (`maxLogins`): past it, those whose bucket has filled again are forgotten (no answer
 * changes), then the oldest (each of those may make `burst` refreshes again: the limit loosens, memory does not grow).
 */
export class RefreshPace {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly burst: number,
    private readonly intervalMs: number,
    private readonly maxLogins = REFRESH_PACE_LOGINS_KEPT,
  ) {}

  /** 0 when the login may refresh at `now`, else the whole seconds until it may. */
  waitSeconds(familyId: string, now: number): number {
    const tokens = this.tokensOf(familyId, now);
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil(((1 - tokens) * this.intervalMs) / 1000));
  }

  /** The login refreshed at `now` (its successor was stored). */
  spend(familyId: string, now: number): void {
    const tokens = this.tokensOf(familyId, now) - 1;
    // Re-inserted, so the map's order is the order of the logins' latest refreshes (the oldest first).
    this.buckets.delete(familyId);
    this.buckets.set(familyId, { tokens, at: now });
    if (this.buckets.size > this.maxLogins) this.forget(now);
  }

  /** The logins kept now (for tests). */
  get size(): number {
    return this.buckets.size;
  }

  private tokensOf(familyId: string, now: number): number {
    const bucket = this.buckets.get(familyId);
    if (!bucket) return this.burst;
    return Math.min(this.burst, bucket.tokens + Math.max(0, now - bucket.at) / this.intervalMs);
  }

  /** Down to nine tenths of `maxLogins` (so this runs once per many refreshes, not at each): the full ones, then the oldest. */
  private forget(now: number): void {
    const target = Math.floor(this.maxLogins * 0.9);
    for (const familyId of [...this.buckets.keys()]) {
      if (this.tokensOf(familyId, now) >= this.burst) this.buckets.delete(familyId);
    }
    for (const familyId of this.buckets.keys()) {
      if (this.buckets.size <= target) break;
      this.buckets.delete(familyId);
    }
  }
}
