/** Bounds on the claims one process works on at once. */
export interface AdmissionLimits {
  maxInFlight: number;
  maxQueued: number;
  queueTimeoutMs: number;
  /** The longest Retry-After a shed claim is given (default 5 s). */
  maxRetryAfterSeconds?: number;
  now?: () => number;
  random?: () => number;
}

/** Why a claim was not admitted: the queue was full, or it waited its whole time in the queue. */
export type Shed = 'QUEUE_FULL' | 'QUEUE_TIMEOUT';

export class ShedError extends Error {
  constructor(
    readonly why: Shed,
    /** When to come back: spread so that the shed clients return at the rate claims are finished. */
    readonly retryAfterSeconds = 1,
  ) {
    super(`Claim not admitted: ${why}`);
    this.name = 'ShedError';
  }
}

const FINISHED_RING = 64;

interface Waiter {
  admit: () => void;
  timer: NodeJS.Timeout;
}

/**
 * A counting semaphore with a bounded, time-limited queue. At an event's launch the store, not this
 * process, is the bottleneck: letting every tap in at once only makes every claim slow (and the gateway
 * answers 504 while claims go on being granted). So at most `maxInFlight` claims run; up to `maxQueued`
 * wait, each for at most `queueTimeoutMs`; the rest are shed at once. A shed claim has recorded nothing,
 * so the client may retry it (503 with Retry-After).
 */
export class AdmissionGate {
  private inFlight = 0;
  private readonly queue: Waiter[] = [];
  /** When the last claims finished (a ring), to know the rate at which this process finishes them. */
  private readonly finished: number[] = [];
  private finishedNext = 0;
  /** Claims shed in the current and the previous second: the crowd that will come back. */
  private shedWindow = { start: 0, current: 0, previous: 0 };
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly limits: AdmissionLimits) {
    this.now = limits.now ?? Date.now;
    this.random = limits.random ?? Math.random;
  }

  /**
   * Runs `work` when admitted; rejects with ShedError when not, without running it. `waitedMs` is how long
   * the request has already waited before it got here (in the event loop, reading its body): it counts
   * against the queue's time limit, so a request that arrives late in a burst is shed, not started late.
   */
  async run<T>(work: () => Promise<T>, waitedMs = 0): Promise<T> {
    await this.enter(Math.max(0, waitedMs));
    try {
      return await work();
    } finally {
      this.leave();
    }
  }

  get load(): { inFlight: number; queued: number } {
    return { inFlight: this.inFlight, queued: this.queue.length };
  }

  /**
   * Retry-After for a claim shed now. A fixed second sends the whole crowd back at once, to be shed again
   * (a retry storm); instead each client gets a random delay up to the time this process needs to work off
   * everything in front of it and the crowd shed in the last second or two, at the rate it has been
   * finishing claims. So the crowd returns about as fast as it can be served.
   */
  private retryAfterSeconds(): number {
    const now = this.now();
    this.countShed(now);
    const rate = this.finishRate(now);
    const backlog = this.inFlight + this.queue.length + this.shedWindow.current + this.shedWindow.previous;
    const drainSeconds = rate > 0 ? backlog / rate : 1;
    const limit = Math.max(1, Math.min(this.limits.maxRetryAfterSeconds ?? 5, Math.ceil(drainSeconds)));
    return 1 + Math.floor(this.random() * limit);
  }

  private countShed(now: number): void {
    const window = this.shedWindow;
    const elapsed = now - window.start;
    if (elapsed >= 2_000) this.shedWindow = { start: now, current: 1, previous: 0 };
    else if (elapsed >= 1_000) this.shedWindow = { start: now, current: 1, previous: window.current };
    else window.current++;
  }

  /** Claims finished per second over the last (up to) 64, or 0 when too few are known. */
  private finishRate(now: number): number {
    const count = this.finished.length;
    if (count < 2) return 0;
    const oldest = count < FINISHED_RING ? this.finished[0]! : this.finished[this.finishedNext]!;
    return (count * 1000) / Math.max(1, now - oldest);
  }

  private shed(why: Shed): ShedError {
    return new ShedError(why, this.retryAfterSeconds());
  }

  private enter(waitedMs: number): Promise<void> {
    if (waitedMs > this.limits.queueTimeoutMs) return Promise.reject(this.shed('QUEUE_TIMEOUT'));
    if (this.inFlight < this.limits.maxInFlight) {
      this.inFlight++;
      return Promise.resolve();
    }
    if (this.queue.length >= this.limits.maxQueued) return Promise.reject(this.shed('QUEUE_FULL'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        admit: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: setTimeout(() => {
          const index = this.queue.indexOf(waiter);
          if (index >= 0) this.queue.splice(index, 1);
          reject(this.shed('QUEUE_TIMEOUT'));
        }, this.limits.queueTimeoutMs - waitedMs),
      };
      this.queue.push(waiter);
    });
  }

  private leave(): void {
    if (this.finished.length < FINISHED_RING) this.finished.push(this.now());
    else {
      this.finished[this.finishedNext] = this.now();
      this.finishedNext = (this.finishedNext + 1) % FINISHED_RING;
    }
    const next = this.queue.shift();
    // The slot passes straight to the next waiter: inFlight stays the same.
    if (next) next.admit();
    else this.inFlight--;
  }
}
