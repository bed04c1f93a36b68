/** Keys remembered as owed an answer (about 150 bytes each), and for how long (ms). */
export const OWED_ANSWERS_KEPT = 10_000;
export const OWED_ANSWER_TTL_MS = 5 * 60 * 1000;

/**
 * Keyed claims this process answered 409 IDEMPOTENCY_IN_PROGRESS: it told the client that the claim may be
 * recorded and to ask again, so it owes that client the outcome (this process; a retry the gateway sends to
 * another replica carries ANSWER_OWED_HEADER, which the 409 asked it for, and is answered there alike). At a
 * launch a retry of such a key was shed with 503 CLAIMS_BUSY like a new tap for as long as the crowd lasted (up to
 * minutes after the claim had been
 * granted, for the keys of a replica killed mid-burst that the gateway resent here), while players who tapped
 * later were already told OUT_OF_STOCK. A retry of an owed key is not shed on arrival: its stored outcome is
 * read (counted against the player's claim rate) and answered; only a key that still has no outcome goes to the gate, as any claim.
 * The arrival check has only the header (the token is not verified yet), so it looks up the key alone; the
 * claim path then asks for the (user, key) pair, so someone else's key gets a request no further than the
 * gate. Bounded: the oldest are forgotten first, each after OWED_ANSWER_TTL_MS, and a key is forgotten once
 * its outcome is answered.
 */
export class OwedAnswers {
  /** `${userId}\n${key}` (a key is visible ASCII, never a line feed) → when it is forgotten. */
  private readonly owed = new Map<string, number>();
  /** How many owed pairs have each key: the arrival check's view. */
  private readonly keys = new Map<string, number>();

  constructor(
    private readonly kept = OWED_ANSWERS_KEPT,
    private readonly ttlMs = OWED_ANSWER_TTL_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.owed.size;
  }

  /** Whether some player may be owed an answer for this Idempotency-Key header (before the token is checked). */
  mayBeOwed(header: string | string[] | undefined): boolean {
    this.forgetExpired();
    return typeof header === 'string' && this.keys.has(header);
  }

  has(userId: string, key: string): boolean {
    const id = pairOf(userId, key);
    const until = this.owed.get(id);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.remove(id);
    return false;
  }

  owe(userId: string, key: string): void {
    const id = pairOf(userId, key);
    // Owed again: moved to the newest end, with a new time.
    if (this.owed.has(id)) this.remove(id);
    while (this.owed.size >= this.kept) {
      this.remove(this.owed.keys().next().value!);
    }
    this.owed.set(id, this.now() + this.ttlMs);
    this.keys.set(key, (this.keys.get(key) ?? 0) + 1);
  }

  /** The key's outcome was answered (or it can have none): nothing is owed for it any more. */
  settle(userId: string, key: string): void {
    const id = pairOf(userId, key);
    if (this.owed.has(id)) this.remove(id);
  }

  /**
   * Forgets the pairs whose time is up, oldest first (the map is in the order they were owed, each for the same
   * time): else a key nobody asked for again would let requests with it past the arrival check until the bound
   * pushed it out.
   */
  private forgetExpired(): void {
    const now = this.now();
    for (const [id, until] of this.owed) {
      if (until > now) return;
      this.remove(id);
    }
  }

  /** Forgets a pair (`pairOf`), and its key's count with it. */
  private remove(id: string): void {
    this.owed.delete(id);
    const key = id.slice(id.indexOf('\n') + 1);
    const left = (this.keys.get(key) ?? 1) - 1;
    if (left > 0) this.keys.set(key, left);
    else this.keys.delete(key);
  }
}

function pairOf(userId: string, key: string): string {
  return `${userId}\n${key}`;
}
