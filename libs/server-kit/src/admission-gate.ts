import { withoutStackTrace } from './errors.js';

/** Bounds on the claims one process works on at once. */
export interface AdmissionLimits {
  maxInFlight: number;
  maxQueued: number;
  queueTimeoutMs: number;
  /**
   * The longest Retry-After a shed claim is given (default 30 s), reached only by a long spell of shedding:
   * see retryBoundSeconds. It also caps `firstRetryAfterSeconds` when that is higher.
   */
  maxRetryAfterSeconds?: number;
  /** The longest Retry-After in a spell of shedding's first seconds (default 5 s): see retryBoundSeconds. */
  firstRetryAfterSeconds?: number;
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
    super(`Not admitted: ${why}`);
    this.name = 'ShedError';
  }
}

/**
 * `running` (a gate's run), with a ShedError replaced by what `busy` makes of its Retry-After: the answer a route
 * gives a request it sheds (503 CLAIMS_BUSY, PROGRESS_BUSY, AUTH_BUSY, ...). Any other error passes as it is.
 */
export function answeringShed<T>(running: Promise<T>, busy: (retryAfterSeconds: number) => Error): Promise<T> {
  return running.catch((error: unknown) => {
    if (error instanceof ShedError) throw busy(error.retryAfterSeconds);
    throw error;
  });
}

/** Claims seen before a rate is trusted, and the weight of the newest in the moving average (1/n). */
const RATE_SAMPLES = 8;
const SERVICE_SMOOTHING = 16;
/** The last finishes kept, and how far back they count for the current pace. */
const FINISHED_RING = 64;
const RECENT_MS = 2_000;
/**
 * The longest Retry-After in a spell of shedding's first seconds (s) unless the limits say otherwise; after
 * them, a spell that has lasted T seconds bounds it at T (never past maxRetryAfterSeconds). A spell ends
 * after SPELL_GAP_MS without a claim shed by a full gate.
 */
const FIRST_RETRY_BOUND_S = 5;
const SPELL_GAP_MS = 10_000;

interface Waiter {
  /** The client it waits for (run's `fairBy`). */
  client: string | undefined;
  admit: () => void;
  /** Shed for having waited its whole time (its timer, or a slot freed after its time was up). */
  expire: () => void;
  /** When its time in the queue is up (this.now()). */
  deadline: number;
  timer: NodeJS.Timeout;
}

/** A client's share of the gate: its runs admitted and not yet finished, its waiters, and its latest admission. */
interface ClientShare {
  running: number;
  queued: number;
  /** The gate's admission count when it was last admitted (0: not while it has had this entry). */
  admittedAs: number;
}

/**
 * A counting semaphore with a bounded, time-limited queue, for work that a crowd arriving at once would
 * only make slow for everyone: claims on the event server, password hashing on the auth server. At an
 * event's launch the store, not this process, is the bottleneck for claims: letting every tap in at once
 * only makes every claim slow (and the gateway answers 504 while claims go on being granted). So at most
 * `maxInFlight` run; up to `maxQueued` wait, each for at most `queueTimeoutMs`; the rest are shed at once.
 * A shed request has done nothing, so the client may retry it (503 with Retry-After). The comments below
 * speak of claims, the first use.
 */
export class AdmissionGate {
  private inFlight = 0;
  private readonly queue: Waiter[] = [];
  /**
   * The clients with runs admitted or waiting (run's `fairBy`; runs without one count as one client), for the
   * choice of the next waiter (takeNext). A client with none has no entry, so this holds at most as many as run
   * and wait at once.
   */
  private readonly clients = new Map<string | undefined, ClientShare>();
  private admissions = 0;
  /**
   * How long a claim takes once admitted while the gate is full (a moving average), and how many such
   * claims were timed. Only those: a claim that ran alone is much faster than one of `maxInFlight` sharing
   * the event loop and the store, and would make the process look faster than it is under a burst.
   */
  private serviceMs = 0;
  private timed = 0;
  /** When the last claims finished (a ring), for the pace at which they are finished right now. */
  private readonly finished: number[] = [];
  private finishedNext = 0;
  /** When the crowd already told to come back will have been served (ms): later shed claims queue behind it. */
  private promisedUntil = 0;
  /** When the current spell of shedding began and when a claim was last shed (see retryBoundSeconds). */
  private spellSince = 0;
  private lastShedAt = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;
  private readonly random: () => number;
  /** The longest Retry-After ever told, and the longest in a spell's first seconds (see retryBoundSeconds). */
  private readonly ceilingSeconds: number;
  private readonly firstBoundSeconds: number;

  constructor(private readonly limits: AdmissionLimits) {
    // Monotonic: a wall clock stepped back (NTP) would make past finishes look recent.
    this.now = limits.now ?? (() => performance.now());
    this.random = limits.random ?? Math.random;
    // Whole seconds, at least 1 (a header value; a limit that is not a number counts as unset).
    this.ceilingSeconds = Math.max(1, Math.floor(limits.maxRetryAfterSeconds ?? 30) || 30);
    this.firstBoundSeconds = Math.max(1, Math.floor(limits.firstRetryAfterSeconds ?? FIRST_RETRY_BOUND_S) || FIRST_RETRY_BOUND_S);
  }

  /**
   * Runs `work` when admitted; rejects with ShedError when not, without running it. `waitedMs` is how long
   * the request has already waited before it got here (in the event loop, reading its body): it counts
   * against the queue's time limit, so a request that arrives late in a burst is shed, not started late.
   * `startWithinMs`: what is left of the time the request may still be started in (the gateway's start-by time,
   * START_BY_HEADER), when it has one: it never waits in the queue past it (the time gone counts as waited).
   * `atOnce`: runs now, even beyond `maxInFlight`, and is never shed (a claim another replica may have
   * recorded before it died, which must be answered for: see ClaimsService); such a run is not timed.
   * `fairBy`: the client it is run for. A slot freed goes to the waiting client with the fewest runs admitted, then
   * to the one admitted longest ago, each client's waiters in their order: first come, first served, one client
   * with many requests queued (one address signing in in a loop) would take nearly every slot freed from another
   * with one. Runs without it count as one client; a gate none of whose runs gives one is first come, first served.
   */
  async run<T>(
    work: () => Promise<T>,
    {
      waitedMs = 0,
      startWithinMs,
      atOnce = false,
      fairBy,
    }: { waitedMs?: number; startWithinMs?: number; atOnce?: boolean; fairBy?: string } = {},
  ): Promise<T> {
    const waited = startWithinMs === undefined ? waitedMs : Math.max(waitedMs, this.limits.queueTimeoutMs - startWithinMs);
    if (atOnce) {
      this.inFlight++;
      this.admitted(this.shareOf(fairBy));
    } else await this.enter(Math.max(0, waited), fairBy);
    const admittedAt = this.now();
    // Timed only as a claim of a full gate (see serviceMs); one run beyond the limit would make it look slower.
    const full = !atOnce && this.inFlight >= this.limits.maxInFlight;
    try {
      return await work();
    } finally {
      this.leave(admittedAt, full, fairBy);
    }
  }

  get load(): { inFlight: number; queued: number } {
    return { inFlight: this.inFlight, queued: this.queue.length };
  }

  /**
   * Retry-After for a claim shed now: its turn in a virtual queue. It comes after the claims running and
   * queued here and after the crowd already told to come back, each taking 1/rate at the rate this process
   * has been finishing claims; so the shed crowd returns about as fast as it can be served, neither all at
   * once (to be shed again) nor later than needed (leaving the server idle); a crowd beyond the longest
   * delay is spread over its upper half. Until the rate is known (a fresh process, or one that has not been
   * busy lately), each gets a random delay over the allowed range.
   */
  private retryAfterSeconds(ahead: number): number {
    const now = this.now();
    const max = this.retryBoundSeconds(now);
    const rate = this.finishRate();
    if (rate <= 0) return 1 + Math.floor(this.random() * max);
    const perClaimMs = 1000 / rate;
    const turn = Math.max(now + ahead * perClaimMs, this.promisedUntil);
    // Never promised beyond the longest delay given: past it, every shed claim would be told that delay.
    this.promisedUntil = Math.min(turn + perClaimMs, now + max * 1000);
    // A turn in the longest delay's last second or past it: the crowd is larger than that delay can hold.
    // Told the longest delay, all of it would come back in one second, more than the queue takes, and the
    // server would then sit idle until the next such wave (sign-ins at a launch: 25-30 a second for four
    // seconds, then none for one to three). Spread over the upper half of the range instead, it comes back
    // as a stream that keeps the queue fed; those that come back before their turn are shed again, cheaply.
    const low = Math.floor(max / 2) + 1;
    if (low < max && turn - now > (max - 1) * 1000) return low + Math.floor(this.random() * (max - low + 1));
    // Whole seconds, rounded at random (up with the probability of the fraction): those whose turns fall in
    // one second do not all come back at its start, and on average each comes back at its turn.
    return Math.min(max, Math.max(1, Math.floor((turn - now) / 1000 + this.random())));
  }

  /**
   * The longest Retry-After a claim shed now may be told (s). In a spell of shedding's first seconds it is
   * `firstRetryAfterSeconds` (FIRST_RETRY_BOUND_S unless set): a launch burst that the server works through
   * in seconds is answered as fast as it can be, and the pace measured in a burst's first seconds is well
   * below its pace later (a longer bound then sends the crowd away for longer than needed). A spell that
   * lasts grows it to its length so far, up to maxRetryAfterSeconds: by then the pace is known, and a crowd
   * that takes minutes to serve, told short delays, comes back again and again, and the answers to those
   * retries take more of the machine than the claims do (docs/benchmarks.md has the launch drills that set
   * these bounds). Each claim is still told its turn when that comes sooner.
   */
  private retryBoundSeconds(now: number): number {
    // Only a full gate's shedding makes or lengthens a spell: a lone claim shed for arriving too late (a slow
    // client, one every few seconds) would otherwise keep a spell going on an idle gate, and the next crowd
    // would be told up to the longest delay from its first second.
    if (this.inFlight >= this.limits.maxInFlight) {
      if (now - this.lastShedAt > SPELL_GAP_MS) this.spellSince = now;
      this.lastShedAt = now;
    }
    const spellMs = now - this.lastShedAt > SPELL_GAP_MS ? 0 : now - this.spellSince;
    return Math.min(this.ceilingSeconds, Math.max(this.firstBoundSeconds, Math.floor(spellMs / 1000)));
  }

  /**
   * Claims per second this process finishes, 0 while unknown: the pace of the last claims finished within
   * RECENT_MS when there were at least RATE_SAMPLES of them, and at least what `maxInFlight` at once finish
   * at the recent time per claim of a full gate (Little's law) once RATE_SAMPLES such claims were timed.
   * The latter holds across a quiet spell before a burst (when the recent pace says little); the former
   * follows the mix of a burst (a refusal once the stock is gone is cheaper than a grant).
   */
  private finishRate(): number {
    const now = this.now();
    const capacity = this.timed >= RATE_SAMPLES ? (this.limits.maxInFlight * 1000) / Math.max(1, this.serviceMs) : 0;
    let recent = 0;
    let oldest = now;
    for (const at of this.finished) {
      if (at <= now - RECENT_MS) continue;
      recent++;
      oldest = Math.min(oldest, at);
    }
    const pace = recent >= RATE_SAMPLES ? (recent * 1000) / Math.max(1, now - oldest) : 0;
    return Math.max(capacity, pace);
  }

  /** `ahead`: the claims in front of the shed one (all running and queued, or those queued before it). */
  private shed(why: Shed, ahead = this.inFlight + this.queue.length): ShedError {
    return withoutStackTrace(() => new ShedError(why, this.retryAfterSeconds(ahead)));
  }

  /**
   * For a claim whose request has only just arrived (not yet authenticated nor parsed): the ShedError it
   * would get at the gate now, counted as shed; undefined when it may go on to the gate, which decides again.
   * Turning a crowd away here costs none of the work a request does before it reaches the gate. `comingAhead`:
   * requests already let in that will reach this gate before this one (they count as queued in front of it).
   */
  shedOnArrival(comingAhead = 0): ShedError | undefined {
    const free = this.limits.maxInFlight - this.inFlight;
    if (comingAhead < free || !this.queueRefuses(0, comingAhead - Math.max(0, free))) return undefined;
    return this.shed('QUEUE_FULL', this.inFlight + this.queue.length + comingAhead);
  }

  /** The ShedError for a claim that may no longer be started (its time to start is up), counted as shed. */
  shedLate(): ShedError {
    return this.shed('QUEUE_TIMEOUT');
  }

  /**
   * The queue is full, or a claim joining it would wait out its time limit at the rate claims are
   * finished: better told at once than after the whole wait, when its turn would have come no sooner.
   */
  private queueRefuses(waitedMs: number, alsoQueued = 0): boolean {
    const queued = this.queue.length + alsoQueued;
    if (queued >= this.limits.maxQueued) return true;
    const rate = this.finishRate();
    return rate > 0 && waitedMs + ((queued + 1) * 1000) / rate > this.limits.queueTimeoutMs;
  }

  private enter(waitedMs: number, client: string | undefined): Promise<void> {
    if (waitedMs > this.limits.queueTimeoutMs) return Promise.reject(this.shed('QUEUE_TIMEOUT'));
    if (this.inFlight < this.limits.maxInFlight) {
      this.inFlight++;
      this.admitted(this.shareOf(client));
      return Promise.resolve();
    }
    if (this.queueRefuses(waitedMs)) return Promise.reject(this.shed('QUEUE_FULL'));
    const left = this.limits.queueTimeoutMs - waitedMs;
    const share = this.shareOf(client);
    share.queued++;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        client,
        admit: () => {
          clearTimeout(waiter.timer);
          share.queued--;
          this.admitted(share);
          resolve();
        },
        expire: () => {
          clearTimeout(waiter.timer);
          share.queued--;
          this.forgetIfIdle(client, share);
          const index = this.queue.indexOf(waiter);
          if (index >= 0) this.queue.splice(index, 1);
          // Those queued after it are not counted in front of it (they are shed after it, or served); with clients
          // (fairBy) the order differs and those queued before it stand in for those served before it.
          reject(this.shed('QUEUE_TIMEOUT', this.inFlight + Math.max(0, index)));
        },
        deadline: this.now() + left,
        timer: setTimeout(() => waiter.expire(), left),
      };
      this.queue.push(waiter);
    });
  }

  private leave(admittedAt: number, full: boolean, client: string | undefined): void {
    if (full) {
      // The mean of the first ones, then a moving average: one slow first claim does not count in full.
      this.timed++;
      const took = Math.max(0, this.now() - admittedAt);
      this.serviceMs += (took - this.serviceMs) / Math.min(this.timed, SERVICE_SMOOTHING);
    }
    if (this.finished.length < FINISHED_RING) this.finished.push(this.now());
    else {
      this.finished[this.finishedNext] = this.now();
      this.finishedNext = (this.finishedNext + 1) % FINISHED_RING;
    }
    const share = this.shareOf(client);
    share.running--;
    this.forgetIfIdle(client, share);
    // Beyond the limit (claims run at once): the slot is given up, not passed on.
    let next = this.inFlight > this.limits.maxInFlight ? undefined : this.takeNext();
    // A waiter whose time is up is shed, not started, even when its timer has not fired yet (a busy event
    // loop runs it late): for a claim that time is its start-by time, after which the gateway may answer 504.
    while (next && this.now() >= next.deadline) {
      next.expire();
      next = this.takeNext();
    }
    // The slot passes straight to the next waiter: inFlight stays the same.
    if (next) next.admit();
    else this.inFlight--;
  }

  /**
   * Takes out of the queue the waiter a freed slot goes to (see run's `fairBy`): that of the client with the fewest
   * runs admitted, then the one admitted longest ago (one that has had none yet first), the earliest of its waiters.
   * A scan of the queue, which maxQueued bounds; not needed when one client has it all (a gate whose runs give
   * no `fairBy`, the claims'), whose waiters go in their order.
   */
  private takeNext(): Waiter | undefined {
    if (this.clients.size <= 1) return this.queue.shift();
    let best: { index: number; share: ClientShare } | undefined;
    for (const [index, waiter] of this.queue.entries()) {
      const share = this.shareOf(waiter.client);
      if (
        !best ||
        share.running < best.share.running ||
        (share.running === best.share.running && share.admittedAs < best.share.admittedAs)
      )
        best = { index, share };
    }
    return best && this.queue.splice(best.index, 1)[0];
  }

  private shareOf(client: string | undefined): ClientShare {
    let share = this.clients.get(client);
    if (!share) {
      share = { running: 0, queued: 0, admittedAs: 0 };
      this.clients.set(client, share);
    }
    return share;
  }

  private admitted(share: ClientShare): void {
    share.running++;
    share.admittedAs = ++this.admissions;
  }

  private forgetIfIdle(client: string | undefined, share: ClientShare): void {
    if (share.running === 0 && share.queued === 0) this.clients.delete(client);
  }
}
