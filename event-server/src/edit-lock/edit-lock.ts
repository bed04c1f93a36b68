import { Injectable, Logger } from '@nestjs/common';
import { LeaseMutex, shortWorkLease } from '@reward/server-kit/lease-mutex';
import { EditLockRepository } from './edit-lock.repository.js';

/**
 * One writer at a time per document that is changed by reading it, merging and writing it back (an event's
 * PATCH, a webhook endpoint's settings and secrets), keyed `<kind>:<id>`. Updates are read-then-write on our
 * store, and the merge is ours anyway: two concurrent changes would each write back a copy without the other's,
 * and one change, acknowledged and audited, would be lost. Under this mutex (a LeaseMutex: one unique insert to
 * take it, a delete to let go) the second change waits for the first, then applies to what the first wrote:
 * both stand. `lease.assertHeld()` goes right before each write. A crashed holder blocks that document's
 * changes for at most 10 s; a change that cannot have it within 5 s is answered 503 with Retry-After, having
 * changed nothing.
 */
@Injectable()
export class EditLock extends LeaseMutex {
  constructor(leases: EditLockRepository) {
    super(leases, shortWorkLease('Another change to this resource is in progress; try again', new Logger(EditLock.name)));
  }
}
