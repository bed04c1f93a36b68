/** How long a health check waits for the store's answer to a ping. */
export const STORE_PING_TIMEOUT_MS = 1_000;
/**
 * How long after the store last answered a ping a slow ping (no answer yet, no error either) still counts as up:
 * a store busy with an event's launch answers in 1-2 s and is serving every request, and a 503 then would take
 * the server out of its load balancer's rotation (and the gateway's /health with it) when it is needed most. A
 * store that refuses or errs is down at once; one that stays silent, after this.
 */
export const STORE_SLOW_GRACE_MS = 5_000;

/** What a readiness check found: the store answered (or is only slow), or why it is not ready. */
export type StoreReadinessOutcome = { ready: true; slow: boolean } | { ready: false; reason: string };

export interface StoreReadinessOptions {
  /** Sends one ping; resolves when the store answers it, rejects when it refuses or errs (bounded by `timeoutMs`). */
  ping: (timeoutMs: number) => Promise<void>;
  /** A monotonic clock in ms (performance.now() unless a test gives its own). */
  now?: () => number;
  pingTimeoutMs?: number;
  slowGraceMs?: number;
}

type PingOutcome = 'answered' | 'failed' | 'slow';

/**
 * Whether a server's store is ready (its /health): ready when it answers a ping within `pingTimeoutMs`, or is only
 * slow (no answer yet, no error) and answered a ping sent within the last `slowGraceMs`; not ready when it refuses.
 * One ping at a time: checks arriving while one is under way wait for it rather than pile more onto a slow store.
 */
export class StoreReadiness {
  /** When the last ping the store answered was sent; one answered after its check gave up counts too. */
  private answeredAt = Number.NEGATIVE_INFINITY;
  private pinging: Promise<PingOutcome> | undefined;
  private readonly now: () => number;
  private readonly pingTimeoutMs: number;
  private readonly slowGraceMs: number;

  constructor(private readonly options: StoreReadinessOptions) {
    this.now = options.now ?? (() => performance.now());
    this.pingTimeoutMs = options.pingTimeoutMs ?? STORE_PING_TIMEOUT_MS;
    this.slowGraceMs = options.slowGraceMs ?? STORE_SLOW_GRACE_MS;
  }

  async check(): Promise<StoreReadinessOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      this.ping(),
      new Promise<PingOutcome>((resolve) => (timer = setTimeout(() => resolve('slow'), this.pingTimeoutMs))),
    ]).finally(() => clearTimeout(timer));
    if (outcome === 'answered') return { ready: true, slow: false };
    if (outcome === 'slow' && this.now() - this.answeredAt <= this.slowGraceMs) return { ready: true, slow: true };
    return {
      ready: false,
      reason: outcome === 'slow' ? 'the database did not answer in time' : 'the database refused the ping',
    };
  }

  private ping(): Promise<PingOutcome> {
    if (this.pinging) return this.pinging;
    const pinging = this.askStore().finally(() => {
      if (this.pinging === pinging) this.pinging = undefined;
    });
    this.pinging = pinging;
    return pinging;
  }

  private async askStore(): Promise<PingOutcome> {
    // When it was sent: a store that takes seconds to answer each ping must not look as if it answered just now.
    const sentAt = this.now();
    try {
      // Bounded, so that a ping the store never answers does not hold every later check to itself.
      await this.options.ping(this.slowGraceMs);
      this.answeredAt = Math.max(this.answeredAt, sentAt);
      return 'answered';
    } catch {
      return 'failed';
    }
  }
}
