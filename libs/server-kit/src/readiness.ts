/** How long a health check waits for the answer to a ping by default. */
export const PING_TIMEOUT_MS = 1_000;
/**
 * How long after the last answered ping a slow ping (no answer yet, no error either) still counts as up: a
 * store (or a server) busy with an event's launch answers in 1-2 s and is serving every request, and a 503 then
 * would take the server out of its load balancer's rotation (and the gateway's /health with it) when it is
 * needed most. One that refuses or errs is down at once; one that stays silent, after this.
 */
export const SLOW_GRACE_MS = 5_000;

/**
 * What a readiness check found: it answered (or is only slow), or why it is not ready: `silent` (no answer in
 * time, and none within the grace), `refused` (an error, a refusal, a wrong answer).
 */
export type ReadinessOutcome = { ready: true; slow: boolean } | { ready: false; reason: 'silent' | 'refused' };

export interface ReadinessOptions {
  /** Sends one ping; resolves when it is answered, rejects when it is refused or errs (bounded by `timeoutMs`). */
  ping: (timeoutMs: number) => Promise<void>;
  /** A monotonic clock in ms (performance.now() unless a test gives its own). */
  now?: () => number;
  pingTimeoutMs?: number;
  slowGraceMs?: number;
}

type PingOutcome = 'answered' | 'failed' | 'slow';

/**
 * Whether something a server depends on is ready (a server's store, the gateway's upstreams): ready when it
 * answers a ping within `pingTimeoutMs`, or is only slow (no answer yet, no error) and answered a ping sent within
 * the last `slowGraceMs`; not ready when it refuses. One ping at a time: checks arriving while one is under way
 * wait for it rather than pile more onto something slow.
 */
export class Readiness {
  /** When the last ping the store answered was sent; one answered after its check gave up counts too. */
  private answeredAt = Number.NEGATIVE_INFINITY;
  private pinging: Promise<PingOutcome> | undefined;
  private readonly now: () => number;
  private readonly pingTimeoutMs: number;
  private readonly slowGraceMs: number;

  constructor(private readonly options: ReadinessOptions) {
    this.now = options.now ?? (() => performance.now());
    this.pingTimeoutMs = options.pingTimeoutMs ?? PING_TIMEOUT_MS;
    this.slowGraceMs = options.slowGraceMs ?? SLOW_GRACE_MS;
  }

  async check(): Promise<ReadinessOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      this.ping(),
      new Promise<PingOutcome>((resolve) => (timer = setTimeout(() => resolve('slow'), this.pingTimeoutMs))),
    ]).finally(() => clearTimeout(timer));
    if (outcome === 'answered') return { ready: true, slow: false };
    if (outcome === 'slow' && this.now() - this.answeredAt <= this.slowGraceMs) return { ready: true, slow: true };
    return { ready: false, reason: outcome === 'slow' ? 'silent' : 'refused' };
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
    // When it was sent: one that takes seconds to answer each ping must not look as if it answered just now.
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
