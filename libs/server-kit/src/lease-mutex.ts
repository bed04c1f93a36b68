import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Schema, type Model } from 'mongoose';
import { isDuplicateKeyError } from './duplicate-key.js';

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

/** A lease document: `_id` is the mutex (or `<mutex>:takeover:<holder>`), the unique `_id` index admits one holder. */
export interface LeaseDocument {
  _id: string;
  holder: string;
  expiresAt: Date;
}

/** The schema of a collection of leases (one document per mutex held). */
export function leaseSchema(collection: string): Schema<LeaseDocument> {
  return new Schema<LeaseDocument>(
    {
      _id: { type: String, required: true },
      holder: { type: String, required: true },
      expiresAt: { type: Date, required: true },
    },
    { collection, versionKey: false, _id: false },
  );
}

/** A LeaseStore over a Mongoose model of lease documents (see leaseSchema). */
export class ModelLeaseStore implements LeaseStore {
  constructor(private readonly model: Model<LeaseDocument>) {}

  async tryInsert(key: string, lease: Lease): Promise<boolean> {
    try {
      await this.model.create({ _id: key, holder: lease.holder, expiresAt: lease.expiresAt });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  async find(key: string): Promise<Lease | undefined> {
    const document = await this.model.findById(key).lean<LeaseDocument>().exec();
    return document ? { holder: document.holder, expiresAt: document.expiresAt } : undefined;
  }

  async deleteHeld(key: string, holder: string): Promise<void> {
    await this.model.deleteOne({ _id: key, holder }).exec();
  }
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
}

export interface HeldLease {
  /** Throws `busy()` when the lease is about to run out: the work must not write after it may have lost the mutex. */
  assertHeld(): void;
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

  async runExclusive<T>(mutex: string, work: (lease: HeldLease) => Promise<T>): Promise<T> {
    const holder = randomUUID();
    const acquiredAt = await this.acquire(mutex, holder);
    const lease: HeldLease = {
      assertHeld: () => {
        if (Date.now() > acquiredAt + this.options.leaseMs - this.options.safetyMs) throw this.options.busy();
      },
    };
    try {
      return await work(lease);
    } finally {
      await this.store.deleteHeld(mutex, holder);
    }
  }

  private async acquire(mutex: string, holder: string): Promise<number> {
    const giveUpAt = Date.now() + this.options.waitMs;
    for (let attempt = 0; ; attempt += 1) {
      const now = Date.now();
      if (await this.store.tryInsert(mutex, { holder, expiresAt: new Date(now + this.options.leaseMs) })) return now;
      if (await this.clearIfExpired(mutex, holder)) continue;
      if (Date.now() >= giveUpAt) throw this.options.busy();
      // The guarded work takes milliseconds: a short, growing, jittered pause.
      await sleep(Math.min(5 * 2 ** Math.min(attempt, 5), 100) + Math.random() * 10);
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
