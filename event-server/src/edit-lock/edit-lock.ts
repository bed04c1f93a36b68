import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { CommonErrorCode, DomainError } from '@reward/server-kit/errors';
import { type HeldLease, type LeaseDocument, LeaseMutex, ModelLeaseStore } from '@reward/server-kit/lease-mutex';
import type { Model } from 'mongoose';

/** The model of the edit leases (collection `edit_locks`, see EditLockModule). */
export const EDIT_LOCKS = 'EditLock';

/**
 * One writer at a time per document that is changed by reading it, merging and writing it back (an event's
 * PATCH, a webhook endpoint's settings and secrets). Updates are read-then-write on our store, and the merge
 * is ours anyway: two concurrent changes would each write back a copy without the other's, and one change,
 * acknowledged and audited, would be lost. Under this mutex (a LeaseMutex: one unique insert to take it, a
 * delete to let go) the second change waits for the first, then applies to what the first wrote: both stand.
 * A crashed holder blocks that document's changes for at most 10 s; a change that cannot have it within 5 s
 * is answered 503 with Retry-After, having changed nothing.
 */
@Injectable()
export class EditLock {
  private readonly mutex: LeaseMutex;

  constructor(@InjectModel(EDIT_LOCKS) model: Model<LeaseDocument>) {
    this.mutex = new LeaseMutex(new ModelLeaseStore(model), {
      leaseMs: 10_000,
      safetyMs: 2_000,
      waitMs: 5_000,
      busy: () =>
        new DomainError(503, CommonErrorCode.SERVICE_UNAVAILABLE, 'Another change to this resource is in progress; try again', {
          retryAfterSeconds: 1,
        }),
    });
  }

  /** Runs `work` as the only writer of `key` (`<kind>:<id>`); `lease.assertHeld()` goes right before each write. */
  runExclusive<T>(key: string, work: (lease: HeldLease) => Promise<T>): Promise<T> {
    return this.mutex.runExclusive(key, work);
  }
}
