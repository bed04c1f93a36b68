import { Injectable, Logger } from '@nestjs/common';
import { LeaseMutex, shortWorkLease } from '@reward/server-kit/lease-mutex';
import { RoleChangeLockRepository } from './role-change-lock.repository.js';

/** The one mutex every role change holds: "is anyone else an ADMIN?" and the write happen under it. */
export const ADMIN_ROLES_MUTEX = 'admin-roles';

/** The role-change mutex (a LeaseMutex): a crashed holder blocks role changes for at most 10 s. */
@Injectable()
export class RoleChangeLock extends LeaseMutex {
  constructor(leases: RoleChangeLockRepository) {
    super(leases, shortWorkLease('Another role change is in progress; try again', new Logger(RoleChangeLock.name)));
  }
}
