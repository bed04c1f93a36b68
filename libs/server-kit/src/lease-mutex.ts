import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommonErrorCode, DomainError } from './errors.js';

/** Who holds a mutex, and until when a crashed holder keeps it. */
export interface Lease {
  holder: string;
  expiresAt: Date;
}

/** The three store operations a LeaseMutex needs: an insert the unique `_id` index decides, a read, a delete. */
export interface LeaseStore {
  /** True when this insert won the key; false when someone holds it (duplicate key). */
  tryInsert(key: string, lease: Lease): Promise<boolean>;
  find(key: string): Promise<Lease | undefined>;
  /** Deletes the key only while this holder has it. */
  deleteHeld(key: string, holder: string): Promise<void>;
}

/** shortWorkLease's `late()`: a request whose start-by time came while it waited for another change to finish. */
export const LATE_WAIT_MESSAGE =
  'This request waited for another change to the same thing until the time it had to be started by, after which the ' +
  'gateway may stop waiting for its answer; nothing was done, retry';

/**
 * A mutex around short work (a few store round trips): a lease of 10 s, far longer than the work, which is what
 * a crashed holder can block at most; no write with less than 2 s of it left; a caller waits 5 s, then gets a
 * 503 (with Retry-After: 1) saying `busyMessage`, having changed nothing. A caller with a start-by time waits no
 * longer than it, and gets a 503 (with Retry-After: 1) saying so, having changed nothing. A failed release is
 * told to `log`.
 */
export function shortWorkLease(busyMessage: string, log: { warn(message: string): void }): LeaseMutexOptions {
  return {
    leaseMs: 10_000,
    safetyMs: 2_000,
    waitMs: 5_000,
    busy: () => new DomainError(503, CommonErrorCode.SERVICE_UNAVAILABLE, busyMessage, { retryAfterSeconds: 1 }),
    late: () => new DomainError(503, CommonErrorCode.SERVICE_UNAVAILABLE, LATE_WAIT_MESSAGE, { retryAfterSeconds: 1 }),
    onReleaseFailed: (error) => log.warn(`A lease was not let go (it expires in 10 s): ${String(error)}`),
  };
}

export interface LeaseMutexOptions {
  /** Far longer than the guarded work takes; what a crashed holder can block at most. */
  leaseMs: number;
  /** A holder stops before writing when less than this is left of its lease. */
  safetyMs: number;
  /** How long a caller waits for the mutex before `busy()` is thrown. */
  waitMs: number;
  /** The error thrown when the mutex cannot be had in time, or a holder's lease is about to run out. */
  busy: () => Error;
  /** The error thrown when a caller's start-by time (ExclusiveRun.startBy) comes before its write; `busy()` if unset. */
  late?: () => Error;
  /** Told when letting go failed (the work is done; the lease then expires and is cleared by takeover). */
  onReleaseFailed?: (error: unknown) => void;
}

export interface HeldLease {
  /**
   * Goes right before each write. Throws `busy()` when the lease is about to run out (the work must not write after
   * it may have lost the mutex), and, before the work's first write only, `late()` once the caller's start-by time
   * has passed (ExclusiveRun.startBy): a change begun in time is finished, not cut between two of its writes.
   */
  assertHeld(): void;
}

export interface ExclusiveRun {
  /**
   * The time (ms since the epoch, Date.now()'s clock) after which the work must not begin a write: a request's
   * start-by time (START_BY_HEADER in start-by.ts). A request waits for the mutex until then at most (the wait
   * stays bounded by `waitMs` too), and `assertHeld()` throws `late()` past it. The gateway waits for the answer
   * as long again after that time, so a write begun before it is answered in time unless the store stalls, and one
   * that would begin after it is refused (nothing done) rather than made after the client may have been told 504.
   * None (a direct call): `waitMs` alone bounds the wait.
   */
  startBy?: number;
}

/**
 * A lease mutex built only from inserts under a unique index, since conditional updates are not atomic on
 * our store (STYLE.md): acquire = insert `{_id: mutex}`, release = delete it. A lease a crashed holder left
 * behind expires; clearing it is itself decided by a unique insert (`<mutex>:takeover:<holder>`), so of all
 * the callers that see the same expired lease exactly one deletes it and none deletes a newer one.
 */
export class LeaseMutex {
  constructor(
    private readonly store: LeaseStore,
    private readonly options: LeaseMutexOptions,
  ) {}

  async runExclusive<T>(mutex: string, work: (lease: HeldLease) => Promise<T>, { startBy }: ExclusiveRun = {}): Promise<T> {
    const holder = randomUUID();
    const acquiredAt = await this.acquire(mutex, holder, startBy);
    const mayHaveLapsed = () => Date.now() > acquiredAt + this.options.leaseMs - this.options.safetyMs;
    // The start-by time bounds when the work may begin writing, not each of its writes: a change of several writes
    // (an audit row, then the change) cut after its first would be half made.
    let writing = false;
    const lease: HeldLease = {
      assertHeld: () => {
        if (mayHaveLapsed()) throw this.options.busy();
        if (!writing && this.pastStartBy(startBy)) throw this.late();
        writing = true;
      },
    };
    try {
      return await work(lease);
    } finally {
      // A delete by holder is a read, then a delete by _id, on our store: once the lease may have lapsed, a
      // takeover and a new holder could come in between, and the delete would remove the newer lease. So a
      // late holder leaves its lease to expire: of all parties only a takeover (a unique insert) clears it.
      if (!mayHaveLapsed()) {
        await this.store.deleteHeld(mutex, holder).catch((error: unknown) => this.options.onReleaseFailed?.(error));
      }
    }
  }

  private pastStartBy(startBy: number | undefined): boolean {
    return startBy !== undefined && Date.now() >= startBy;
  }

  private late(): Error {
    return (this.options.late ?? this.options.busy)();
  }

  private async acquire(mutex: string, holder: string, startBy: number | undefined): Promise<number> {
    // Past its start-by time a request does not even take the mutex: it could write nothing under it.
    if (this.pastStartBy(startBy)) throw this.late();
    const giveUpAt = Date.now() + this.options.waitMs;
    const tryNow = async (): Promise<number | undefined> => {
      const now = Date.now();
      return (await this.store.tryInsert(mutex, { holder, expiresAt: new Date(now + this.options.leaseMs) })) ? now : undefined;
    };
    for (let attempt = 0; ; attempt += 1) {
      const acquired = (await tryNow()) ?? ((await this.clearIfExpired(mutex, holder)) ? await tryNow() : undefined);
      if (acquired !== undefined) return acquired;
      if (this.pastStartBy(startBy)) throw this.late();
      if (Date.now() >= giveUpAt) throw this.options.busy();
      // The guarded work takes milliseconds: a short, growing, jittered pause (never past the start-by time).
      const pause = Math.min(5 * 2 ** Math.min(attempt, 5), 100) + Math.random() * 10;
      await sleep(startBy === undefined ? pause : Math.max(0, Math.min(pause, startBy - Date.now())));
    }
  }

  /**
   * Clears `key` when its lease has expired; true when it did or it was already gone. The right to delete an
   * expired lease is a unique insert of `<key>:takeover:<holder>` (whose own lease, should its winner crash
   * in between, expires and is cleared the same way), and the takeover record goes once the lease has.
   */
  private async clearIfExpired(key: string, holder: string, depth = 0): Promise<boolean> {
    const current = await this.store.find(key);
    if (!current) return true;
    if (current.expiresAt.getTime() > Date.now() || depth > 2) return false;
    const takeover = `${key}:takeover:${current.holder}`;
    if (!(await this.store.tryInsert(takeover, { holder, expiresAt: new Date(Date.now() + this.options.leaseMs) }))) {
      return this.clearIfExpired(takeover, holder, depth + 1);
    }
    await this.store.deleteHeld(key, current.holder);
    await this.store.deleteHeld(takeover, holder);
    return true;
  }
}
