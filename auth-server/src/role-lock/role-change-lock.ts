import { Injectable, Logger } from '@nestjs/common';
import { type HeldLease, LeaseMutex, SHORT_WORK_LEASE, busyWith } from '@reward/server-kit/lease-mutex';
import { RoleChangeLockRepository } from './role-change-lock.repository.js';

/** The one mutex every role change holds: "is anyone else an ADMIN?" and the write happen under it. */
export const ADMIN_ROLES_MUTEX = 'admin-roles';

/** The role-change mutex (a LeaseMutex): a crashed holder blocks role changes for at most 10 s. */
@Injectable()
export class RoleChangeLock {
  private readonly logger = new Logger(RoleChangeLock.name);
  private readonly mutex: LeaseMutex;

  constructor(leases: RoleChangeLockRepository) {
    this.mutex = new LeaseMutex(leases, {
      ...SHORT_WORK_LEASE,
      busy: busyWith('Another role change is in progress; try again'),
      onReleaseFailed: (error) => this.logger.warn(`The role-change lease was not let go (it expires in 10 s): ${String(error)}`),
    });
  }

  runExclusive<T>(work: (lease: HeldLease) => Promise<T>, mutex = ADMIN_ROLES_MUTEX): Promise<T> {
    return this.mutex.runExclusive(mutex, work);
  }
}
