/** Rewards whose count is remembered at most; the oldest is forgotten first. */
const MAX_ENTRIES = 10_000;

interface Entry {
  count: Promise<number>;
  /** When the count came back (Date.now()); undefined while it is in flight. */
  settledAt?: number;
  /** This process took or gave back a unit of the reward since the count started. */
  stale: boolean;
}

/**
 * The units taken per limited reward, for the `remaining` that `GET /events/{id}` and its rewards show to
 * anyone signed in. A count reads every unit taken so far (20,000 grants: 1.5 s of the store per view on
 * FerretDB), so views are not allowed to ask for one each: concurrent views of a reward share the count in
 * flight, and a count is reused for `ttlMs` after it came back. A unit this process takes or gives back makes
 * the next view count again (as the event catalog drops an entry this process changed), once the count in
 * flight, if any, is back; a change made through another replica shows at most `ttlMs` after that count.
 * So at most one count per reward is in flight in a process, whatever the number of views.
 */
export class TakenCounts {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly countTaken: (rewardId: string) => Promise<number>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(rewardId: string): Promise<number> {
    const cached = this.entries.get(rewardId);
    if (cached && (cached.settledAt === undefined || (!cached.stale && this.now() - cached.settledAt < this.ttlMs))) {
      return cached.count;
    }
    const entry: Entry = { count: this.countTaken(rewardId), stale: false };
    this.entries.delete(rewardId);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(rewardId, entry);
    entry.count.then(
      () => {
        entry.settledAt = this.now();
      },
      // A failed count is not kept: the next view counts again.
      () => {
        if (this.entries.get(rewardId) === entry) this.entries.delete(rewardId);
      },
    );
    return entry.count;
  }

  /** This process took or gave back a unit of these rewards. */
  changed(rewardIds: readonly string[]): void {
    for (const rewardId of rewardIds) {
      const entry = this.entries.get(rewardId);
      if (entry) entry.stale = true;
    }
  }
}
