import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { CommonErrorCode, DomainError } from '@reward/server-kit/errors';
import { type HeldLease, type LeaseDocument, LeaseMutex, ModelLeaseStore } from '@reward/server-kit/lease-mutex';
import type { Model } from 'mongoose';

/** The model of the role-change leases (collection `role_change_locks`, see RoleLockModule). */
export const ROLE_CHANGE_LOCKS = 'RoleChangeLock';
/** The one mutex every role change holds: "is anyone else an ADMIN?" and the write happen under it. */
export const ADMIN_ROLES_MUTEX = 'admin-roles';

/** The role-change mutex (a LeaseMutex): a crashed holder blocks role changes for at most 10 s. */
@Injectable()
export class RoleChangeLock {
  private readonly mutex: LeaseMutex;

  constructor(@InjectModel(ROLE_CHANGE_LOCKS) model: Model<LeaseDocument>) {
    this.mutex = new LeaseMutex(new ModelLeaseStore(model), {
      // Far longer than a role change takes (a few store round trips).
      leaseMs: 10_000,
      safetyMs: 2_000,
      waitMs: 5_000,
      busy: () =>
        new DomainError(503, CommonErrorCode.SERVICE_UNAVAILABLE, 'Another role change is in progress; try again', {
          retryAfterSeconds: 1,
        }),
    });
  }

  runExclusive<T>(work: (lease: HeldLease) => Promise<T>, mutex = ADMIN_ROLES_MUTEX): Promise<T> {
    return this.mutex.runExclusive(mutex, work);
  }
}
