/** A player's allowance: `tokens` as of `at` (ms, monotonic). */
interface Bucket {
  tokens: number;
  at: number;
}

/** How often buckets that have filled up again are dropped (they say nothing a fresh one would not). */
const SWEEP_EVERY_MS = 60_000;

/**
 * How many claim requests each player may make to this process: a token bucket per player, `burst` deep,
 * refilled at `perMinute`. Every claim request that is let through is recorded (refusals too, as REJECTED
 * claims), so a player looping on a claim their condition refuses would otherwise write a claim per request
 * and grow the claims every slot read scans. A launch's crowd does not come near it: a player taps a few
 * times and retries after Retry-After. Memory: one small entry per player seen in the last minute or so.
 */
export class PlayerClaimRate {
  private readonly buckets = new Map<string, Bucket>();
  private sweptAt: number;

  constructor(
    private readonly burst: number,
    private readonly perMinute: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.sweptAt = now();
  }

  /** Takes one request's token: undefined when the player may go on, else the seconds until they may. */
  take(userId: string): number | undefined {
    if (this.burst === 0) return undefined;
    const now = this.now();
    if (now - this.sweptAt >= SWEEP_EVERY_MS) this.sweep(now);
    const bucket = this.buckets.get(userId);
    const tokens = bucket ? this.tokensAt(bucket, now) : this.burst;
    if (tokens >= 1) {
      this.buckets.set(userId, { tokens: tokens - 1, at: now });
      return undefined;
    }
    this.buckets.set(userId, { tokens, at: now });
    return Math.max(1, Math.ceil(((1 - tokens) * 60) / this.perMinute));
  }

  /** Gives back the token of a request that turned out to decide nothing (a replay, a shed request). */
  refund(userId: string): void {
    const bucket = this.buckets.get(userId);
    if (bucket) bucket.tokens = Math.min(this.burst, bucket.tokens + 1);
  }

  private tokensAt(bucket: Bucket, now: number): number {
    return Math.min(this.burst, bucket.tokens + ((now - bucket.at) * this.perMinute) / 60_000);
  }

  private sweep(now: number): void {
    this.sweptAt = now;
    for (const [userId, bucket] of this.buckets) if (this.tokensAt(bucket, now) >= this.burst) this.buckets.delete(userId);
  }

  /** Players with an entry (for tests of the memory bound). */
  get size(): number {
    return this.buckets.size;
  }
}
