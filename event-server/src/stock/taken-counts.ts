/** Rewards whose count is remembered at most; the oldest is forgotten first. */
const MAX_ENTRIES = 10_000;

interface Entry {
  /** The last count that came back, and when (Date.now()); undefined until one has. */
  settled?: { count: number; at: number };
  /** Units this process took since that count came back (or while it was in flight). */
  takenSince: number;
  /** The count in flight, if any: at most one per reward. */
  counting?: Promise<number>;
  /** This process gave back units of the reward (or raised its stock) since the count in flight, if any, started. */
  stale: boolean;
}

/**
 * The units taken per limited reward, for the `remaining` that `GET /events/{id}` and its rewards show to
 * anyone signed in. A count reads every unit taken so far (20,000 grants: 1.5 to 8 s of the store per count on
 * FerretDB), so views are not allowed to ask for one each: concurrent views of a reward share the count in
 * flight, and a count is reused for `ttlMs` after it came back. A unit this process takes is added to the count
 * it has (`took`): at a launch, where this process takes units all the time, a view that waited for a count after
 * each one waited as long as a count takes (7 s at 20,000 units, 30 s for five claims each followed by a view),
 * and the store counted back to back. Once the TTL is over, a view is answered with the count it has (and the
 * units taken since) while one new count runs, if that count came back less than twice the TTL ago (views kept
 * coming); an older one (no view for a while, hours maybe) is not shown: the view waits for the new count. A unit
 * this process gives back (`changed`: a rejection, a revocation, a stock raised) makes the next view wait for a new
 * count, once the count in flight, if any, is back. So a change made through another replica shows at most twice
 * `ttlMs` plus two counts' time late (the count shown was read while it ran, and is shown while the next one runs),
 * and at most one count per reward is in flight in a process, whatever the number of views.
 */
export class TakenCounts {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly countTaken: (rewardId: string) => Promise<number>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(rewardId: string): Promise<number> {
    const entry = this.entries.get(rewardId);
    if (!entry) return this.count(rewardId, this.added(rewardId));
    const { settled } = entry;
    if (settled === undefined || entry.stale) return entry.counting ?? this.count(rewardId, entry);
    const age = this.now() - settled.at;
    if (age >= this.ttlMs && entry.counting === undefined) {
      const counting = this.count(rewardId, entry);
      // No view for a while (its count came back twice the TTL ago or more): that count may be hours old, so this
      // view waits for the new one. Otherwise it is counted again for the next views; this one is not kept waiting.
      if (age >= 2 * this.ttlMs) return counting;
      void counting.catch(() => undefined);
    }
    return Promise.resolve(settled.count + entry.takenSince);
  }

  /** This process took a unit of each of these rewards. */
  took(rewardIds: readonly string[]): void {
    for (const rewardId of rewardIds) {
      const entry = this.entries.get(rewardId);
      // The count in flight may or may not have seen it: it is taken as having seen it (the next count settles it).
      if (entry) entry.takenSince++;
    }
  }

  /** This process gave back units of these rewards (or raised their stock): the next view counts again. */
  changed(rewardIds: readonly string[]): void {
    for (const rewardId of rewardIds) {
      const entry = this.entries.get(rewardId);
      if (entry) entry.stale = true;
    }
  }

  private added(rewardId: string): Entry {
    const entry: Entry = { takenSince: 0, stale: false };
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(rewardId, entry);
    return entry;
  }

  private count(rewardId: string, entry: Entry): Promise<number> {
    const wasStale = entry.stale;
    entry.stale = false;
    const counting = this.countTaken(rewardId);
    entry.counting = counting;
    counting.then(
      (count) => {
        if (entry.counting !== counting) return;
        entry.settled = { count, at: this.now() };
        entry.takenSince = 0;
        entry.counting = undefined;
      },
      // A failed count is not kept: the next view counts again (an entry that never counted is dropped).
      () => {
        if (entry.counting !== counting) return;
        entry.counting = undefined;
        if (wasStale) entry.stale = true;
        if (entry.settled === undefined && this.entries.get(rewardId) === entry) this.entries.delete(rewardId);
      },
    );
    return counting;
  }
}
