import { Injectable, Logger } from '@nestjs/common';
import { type HeldLease, LeaseMutex, SHORT_WORK_LEASE, busyWith } from '@reward/server-kit/lease-mutex';
import { EditLockRepository } from './edit-lock.repository.js';

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
  private readonly logger = new Logger(EditLock.name);
  private readonly mutex: LeaseMutex;

  constructor(leases: EditLockRepository) {
    this.mutex = new LeaseMutex(leases, {
      ...SHORT_WORK_LEASE,
      busy: busyWith('Another change to this resource is in progress; try again'),
      onReleaseFailed: (error) => this.logger.warn(`An edit lease was not let go (it expires in 10 s): ${String(error)}`),
    });
  }

  /** Runs `work` as the only writer of `key` (`<kind>:<id>`); `lease.assertHeld()` goes right before each write. */
  runExclusive<T>(key: string, work: (lease: HeldLease) => Promise<T>): Promise<T> {
    return this.mutex.runExclusive(key, work);
  }
}
