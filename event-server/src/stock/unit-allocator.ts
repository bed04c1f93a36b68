/** What the allocator needs to read of where a reward's units are recorded: a probe and the list of held units. */
export interface UnitStore {
  /** Whether the unit is held (one point read on the unique index). */
  exists(rewardId: string, unit: number): Promise<boolean>;
  /** The held unit numbers, ascending: only read when the frontier has passed the stock (sold out or holes). */
  takenUnits(rewardId: string): Promise<number[]>;
  /** How many units are held: asked instead of the list when the reward was found sold out at the last look. */
  countTaken(rewardId: string): Promise<number>;
}

export interface AllocatorOptions {
  /**
   * How long "every unit is held" is first believed without looking again; each look that finds it still
   * so doubles it, up to SOLD_OUT_TTL_MAX_MS (or this, if longer).
   */
  soldOutTtlMs: number;
  /** Refused inserts in a row (another replica is ahead) before the frontier is searched again. */
  maxCollisions: number;
  /**
   * Units per block (default 32). Once a process sees a unit at its frontier taken by another, it takes
   * units block by block: the first unit of each block is tried alone, and a refusal there moves it to the
   * next block, so replicas fill blocks of their own instead of refusing each other unit after unit.
   */
  blockSize?: number;
  /**
   * How long a process's other takers wait for a probe's outcome (default 250 ms); then they go on as if
   * the probe had been taken (a refusal among them moves the frontier as any refusal does).
   */
  probeWaitMs?: number;
  now?: () => number;
  random?: () => number;
}

/**
 * One attempt to take a unit, made by the caller with the unique insert that records it: TAKEN (the caller
 * holds it now), HELD (the unique index refused it: someone holds it), or STOP (the insert was refused for a
 * reason of the caller's own, such as the claim's slot being held: the unit goes back and taking ends).
 */
export type UnitAttempt = 'TAKEN' | 'HELD' | 'STOP';

/** What a take came to: the unit taken, SOLD_OUT (every unit is held), or STOPPED (an attempt said STOP). */
export type TakeResult = number | 'SOLD_OUT' | 'STOPPED';

interface Cursor {
  /** The next unit number to try; units below it are believed held. */
  next: number;
  /** Units seen free below `next` (holes from released claims, found by the last scan). */
  free: number[];
  soldOutUntil: number;
  /** Looks in a row that found every unit held (each doubles how long the next belief lasts). */
  soldOutLooks: number;
  /** The stock the belief was formed with: a larger one (a top-up through another replica) ends it. */
  soldOutStock: number;
  /** Units given back through this process so far (released): a look read before one says nothing of it. */
  releases: number;
  /** Another process takes units of this reward too: blocks are opened one probe at a time (see AllocatorOptions.blockSize). */
  shared: boolean;
  /** The next unit taken at the frontier is a probe: tried alone, the other takers waiting for its outcome. */
  probeNext: boolean;
  /** Blocks opened in a row without a refusal while shared: enough of them and the process is believed alone again. */
  quietBlocks: number;
  /** A probe in flight: takers at the frontier wait for it. */
  probing?: Promise<void>;
  /** A frontier search in progress: concurrent first takers share it. */
  searching?: Promise<void>;
  /** A scan for holes in progress: concurrent takers at the end of the stock share it. */
  refilling?: Promise<boolean>;
}

/**
 * The longest a sold-out belief lasts. A look lists the taken units (or counts them), on FerretDB decoding
 * every claim that holds one (about 140 µs each): at 1 s, a sold-out reward of 100,000 units that players
 * kept tapping cost the store 14 s of CPU each second, per replica. Doubling each look, a unit given back
 * through another replica (a rejection, a revoke) waits up to this long to be offered again by this one.
 */
const SOLD_OUT_TTL_MAX_MS = 30_000;

/** Blocks opened without a refusal before a process that shared a reward's units believes it takes them alone. */
const QUIET_BLOCKS_TO_UNSHARE = 8;

/**
 * Takes units of limited rewards without counting them. Each process keeps, per reward, a frontier: the
 * next unit number believed free. A take is one insert at the frontier (the unique index decides); a
 * refusal means another process took that unit. A process alone walks the units one after another, its
 * concurrent takers never waiting for each other. Once refused at its frontier it shares the reward with
 * another process (a replica, or a restart's predecessor) and goes by blocks (AllocatorOptions.blockSize):
 * it moves to the next block, and the first unit of each block it enters is a probe, tried alone while its
 * other takers wait; a refused probe means the block is another's, so it moves on. Replicas so fill blocks
 * of their own, one refusal per block at most, where walking the same units they refused each other over
 * and over (measured with two replicas: 15 % of inserts refused, each a refused insert and a read of the
 * claim's slot on FerretDB). After QUIET_BLOCKS_TO_UNSHARE blocks opened without a refusal it walks alone again.
 * The frontier is found once per process and reward when inserts keep colliding (a restart, another
 * replica ahead), by probing single units (galloping, then bisecting: about 2·log2(taken) point reads), so
 * a claim's cost does not grow with the units already taken. Only when the frontier passes the stock
 * are the taken units listed, to find the holes released claims (and other processes' unfinished blocks)
 * left; when there are none, the reward is believed sold out for `soldOutTtlMs`, doubled at each look that
 * finds it still so up to SOLD_OUT_TTL_MAX_MS, the later looks a count (a refusal meanwhile costs no
 * store command). Which unit to try is only a hint: the unique insert is what makes overselling impossible.
 */
export class UnitAllocator {
  private readonly cursors = new Map<string, Cursor>();
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly blockSize: number;
  private readonly probeWaitMs: number;

  constructor(
    private readonly store: UnitStore,
    private readonly options: AllocatorOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.blockSize = Math.max(1, options.blockSize ?? 32);
    this.probeWaitMs = options.probeWaitMs ?? 250;
  }

  /** True while the reward, of this stock, is believed sold out (an early, free answer; a take still checks). */
  isSoldOut(rewardId: string, stock: number): boolean {
    const cursor = this.cursors.get(rewardId);
    return cursor !== undefined && this.believedSoldOut(cursor, stock);
  }

  /** Takes one unit of the reward, each attempt an insert made by `attempt` (see UnitAttempt). */
  async take(rewardId: string, stock: number, attempt: (unit: number) => Promise<UnitAttempt>): Promise<TakeResult> {
    const cursor = await this.cursorFor(rewardId);
    if (this.believedSoldOut(cursor, stock)) return 'SOLD_OUT';
    let collisions = 0;
    for (;;) {
      const hole = cursor.free.shift();
      if (hole === undefined && (cursor.probing ?? cursor.searching)) {
        // The frontier's next block is being probed, or the frontier searched: their outcome says where it goes.
        await (cursor.probing ?? cursor.searching);
        continue;
      }
      const unit = hole ?? (cursor.next <= stock ? cursor.next++ : undefined);
      if (unit === undefined) {
        if (this.believedSoldOut(cursor, stock)) return 'SOLD_OUT';
        cursor.refilling ??= this.refill(rewardId, stock, cursor).finally(() => {
          cursor.refilling = undefined;
        });
        if (await cursor.refilling) continue;
        return 'SOLD_OUT';
      }
      const probe = hole === undefined && cursor.shared && (cursor.probeNext || this.opensBlock(unit));
      let endProbe: (() => void) | undefined;
      if (probe) {
        cursor.probeNext = false;
        endProbe = this.startProbe(cursor);
      }
      let outcome: UnitAttempt;
      try {
        outcome = await attempt(unit);
      } catch (error) {
        // The unit's fate is unknown (found later as a hole if free): the next frontier unit is probed again.
        if (endProbe) {
          cursor.probeNext = true;
          endProbe();
        }
        throw error;
      }
      if (outcome === 'TAKEN') {
        if (endProbe) {
          if (this.opensBlock(unit) && ++cursor.quietBlocks >= QUIET_BLOCKS_TO_UNSHARE) cursor.shared = false;
          endProbe();
        }
        return unit;
      }
      if (outcome === 'STOP') {
        // The unit may be free: the next taker tries it first (a collision there costs one refused insert).
        cursor.free.unshift(unit);
        if (endProbe) {
          cursor.probeNext = true;
          endProbe();
        }
        return 'STOPPED';
      }
      // Another process took it: it shares this reward's units, so on to the next block, probed first (the
      // units skipped are the other's, or found later as holes). Always the next: skipping one or two blocks at
      // random spared 8 processes a fifth of their refusals on a large stock (simulated), but left a stock of
      // 100 shared by two processes with twice the refusals, its skipped units found only by listing.
      if (hole === undefined) {
        cursor.shared = true;
        cursor.quietBlocks = 0;
        const nextBlock = unit - ((unit - 1) % this.blockSize) + this.blockSize;
        if (nextBlock > cursor.next) {
          cursor.next = nextBlock;
          cursor.probeNext = true;
        }
      }
      endProbe?.();
      if (++collisions >= this.options.maxCollisions) {
        // Units are held beyond this process's frontier (another process, or a restart): find the frontier
        // instead of walking to it. Concurrent takers share one search.
        collisions = 0;
        cursor.searching ??= this.search(rewardId, stock, cursor, cursor.next).finally(() => {
          cursor.searching = undefined;
        });
        await cursor.searching;
      }
    }
  }

  /** Whether taking `unit` at the frontier enters a new block. */
  private opensBlock(unit: number): boolean {
    return (unit - 1) % this.blockSize === 0;
  }

  /**
   * Makes the next frontier take a probe: the process's other takers at the frontier wait for its outcome,
   * for probeWaitMs at most (a probe whose insert hangs holds nobody else). Gives the function that ends it.
   */
  private startProbe(cursor: Cursor): () => void {
    let release!: () => void;
    const waited = new Promise<void>((resolve) => (release = resolve));
    const end = (): void => {
      clearTimeout(timer);
      if (cursor.probing === waited) cursor.probing = undefined;
      release();
    };
    const timer = setTimeout(end, this.probeWaitMs);
    timer.unref?.();
    cursor.probing = waited;
    return end;
  }

  /**
   * Sold out for now: believed so, of a stock no smaller, and no unit is waiting in `free` (one a stopped take
   * gave back may be free).
   */
  private believedSoldOut(cursor: Cursor, stock: number): boolean {
    return cursor.soldOutUntil > this.now() && stock <= cursor.soldOutStock && cursor.free.length === 0;
  }

  /** A claim of this process gave units back: they may be taken again (found by the next scan). */
  released(rewardId: string): void {
    const cursor = this.cursors.get(rewardId);
    if (cursor) {
      cursor.soldOutUntil = 0;
      cursor.soldOutLooks = 0;
      cursor.releases++;
    }
  }

  private async cursorFor(rewardId: string): Promise<Cursor> {
    let cursor = this.cursors.get(rewardId);
    if (!cursor) {
      // Optimistic: a reward is usually new when its first claims come. Collisions find the frontier.
      cursor = {
        next: 1,
        free: [],
        soldOutUntil: 0,
        soldOutLooks: 0,
        soldOutStock: 0,
        releases: 0,
        shared: false,
        probeNext: false,
        quietBlocks: 0,
      };
      this.cursors.set(rewardId, cursor);
    }
    if (cursor.searching) await cursor.searching;
    return cursor;
  }

  /**
   * Moves the frontier to a unit that is free and whose predecessor is held, at or after `from`: gallop
   * (from, from+1, from+3, from+7, …) to the first free probe, then bisect back to the boundary.
   */
  private async search(rewardId: string, stock: number, cursor: Cursor, from: number): Promise<void> {
    let held = from - 1;
    let step = 1;
    let probe = from;
    while (probe <= stock && (await this.store.exists(rewardId, probe))) {
      held = probe;
      probe = Math.min(stock + 1, probe + step);
      step *= 2;
    }
    let free = probe; // free, or stock + 1
    while (free - held > 1) {
      const middle = held + Math.floor((free - held) / 2);
      if (await this.store.exists(rewardId, middle)) held = middle;
      else free = middle;
    }
    if (free > cursor.next) {
      cursor.next = free;
      // Where the frontier was found may be another process's block: the first unit tried there is a probe.
      cursor.probeNext = true;
    }
  }

  /**
   * The frontier passed the stock: list the holes, or believe the reward sold out for a while. A reward found
   * sold out at the last look is counted first (on MongoDB an index count, not a read of every unit's claim):
   * as many held as the stock, it still is.
   */
  private async refill(rewardId: string, stock: number, cursor: Cursor): Promise<boolean> {
    // Counted only for the stock last found sold out: after a top-up the new units are listed like any.
    const releases = cursor.releases;
    if (cursor.soldOutLooks > 0 && stock === cursor.soldOutStock && (await this.store.countTaken(rewardId)) >= stock) {
      // A unit given back while the count was read (a stopped take's, in `free`; or released): not sold out.
      if (cursor.free.length > 0 || cursor.releases !== releases) return true;
      this.believeSoldOut(cursor, stock);
      return false;
    }
    const taken = await this.store.takenUnits(rewardId);
    const holes = freeUnits(taken, stock, 64).filter((unit) => !cursor.free.includes(unit));
    // Units given back by a stopped take while the list was read are in `free` already, and one released
    // meanwhile may be missing from it: not sold out.
    if (holes.length === 0 && cursor.free.length === 0) {
      if (cursor.releases !== releases) return true;
      this.believeSoldOut(cursor, stock);
      return false;
    }
    cursor.soldOutLooks = 0;
    // In random order: every process that scans finds the same holes, and would refuse each other in turn.
    cursor.free.push(...shuffled(holes, this.random));
    return true;
  }

  /** Every unit is held: believed for soldOutTtlMs, twice as long for each look in a row that found so. */
  private believeSoldOut(cursor: Cursor, stock: number): void {
    // A larger stock sold out (a top-up, taken since): believed afresh, from soldOutTtlMs.
    if (stock !== cursor.soldOutStock) cursor.soldOutLooks = 0;
    const longest = Math.max(this.options.soldOutTtlMs, SOLD_OUT_TTL_MAX_MS);
    const ttl = Math.min(longest, this.options.soldOutTtlMs * 2 ** Math.min(cursor.soldOutLooks, 30));
    cursor.soldOutLooks++;
    cursor.soldOutUntil = this.now() + ttl;
    cursor.soldOutStock = stock;
  }
}

function shuffled<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** The unit numbers in 1..stock missing from `takenSorted` (ascending), at most `max` of them. */
export function freeUnits(takenSorted: readonly number[], stock: number, max: number): number[] {
  const free: number[] = [];
  let index = 0;
  for (let unit = 1; unit <= stock && free.length < max; unit++) {
    while (index < takenSorted.length && takenSorted[index]! < unit) index++;
    if (takenSorted[index] !== unit) free.push(unit);
  }
  return free;
}
