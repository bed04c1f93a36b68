/** Bounds on the claims one process works on at once. */
export interface AdmissionLimits {
  maxInFlight: number;
  maxQueued: number;
  queueTimeoutMs: number;
}

/** Why a claim was not admitted: the queue was full, or it waited its whole time in the queue. */
export type Shed = 'QUEUE_FULL' | 'QUEUE_TIMEOUT';

export class ShedError extends Error {
  constructor(readonly why: Shed) {
    super(`Claim not admitted: ${why}`);
    this.name = 'ShedError';
  }
}

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

  constructor(private readonly limits: AdmissionLimits) {}

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

  private enter(waitedMs: number): Promise<void> {
    if (waitedMs > this.limits.queueTimeoutMs) return Promise.reject(new ShedError('QUEUE_TIMEOUT'));
    if (this.inFlight < this.limits.maxInFlight) {
      this.inFlight++;
      return Promise.resolve();
    }
    if (this.queue.length >= this.limits.maxQueued) return Promise.reject(new ShedError('QUEUE_FULL'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        admit: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: setTimeout(() => {
          const index = this.queue.indexOf(waiter);
          if (index >= 0) this.queue.splice(index, 1);
          reject(new ShedError('QUEUE_TIMEOUT'));
        }, this.limits.queueTimeoutMs - waitedMs),
      };
      this.queue.push(waiter);
    });
  }

  private leave(): void {
    const next = this.queue.shift();
    // The slot passes straight to the next waiter: inFlight stays the same.
    if (next) next.admit();
    else this.inFlight--;
  }
}
