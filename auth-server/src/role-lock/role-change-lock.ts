import { Injectable, Logger } from '@nestjs/common';
import { type ExclusiveRun, type HeldLease, LeaseMutex, shortWorkLease } from '@reward/server-kit/lease-mutex';
import { RoleChangeLockRepository } from './role-change-lock.repository.js';

/** The one mutex every role change holds: "is anyone else an ADMIN?" and the write happen under it. */
export const ADMIN_ROLES_MUTEX = 'admin-roles';

/**
 * The mutex of one user's document: every write of a user holds it (on our store an update writes the whole
 * document back, so two writes of different fields at once could undo each other). A role change takes it
 * first and ADMIN_ROLES_MUTEX inside it, never the other way round (so that waiting for a busy user holds up
 * no other role change); a user's own writes (password, sessions) take it alone, so that no number of users
 * logging out can hold up a role change.
 */
export function userMutex(userId: string): string {
  return `user:${userId}`;
}

/** The role-change mutex (a LeaseMutex): a crashed holder blocks role changes for at most 10 s. */
@Injectable()
export class RoleChangeLock extends LeaseMutex {
  constructor(leases: RoleChangeLockRepository) {
    super(
      leases,
      shortWorkLease('Another change of roles or of this account is in progress; try again', new Logger(RoleChangeLock.name)),
    );
  }

  /**
   * A staff change of a user (a role change, an ADMIN's "log out everywhere"): under the user's mutex, then
   * ADMIN_ROLES_MUTEX inside it, the one order every such change takes them in. The lease `work` gets checks
   * both. `run.startBy` (a request's start-by time) bounds both waits and the writes' start.
   */
  runStaffChange<T>(userId: string, work: (lease: HeldLease) => Promise<T>, run: ExclusiveRun = {}): Promise<T> {
    return this.runExclusive(
      userMutex(userId),
      (userLease) =>
        this.runExclusive(
          ADMIN_ROLES_MUTEX,
          (rolesLease) =>
            work({
              assertHeld: () => {
                userLease.assertHeld();
                rolesLease.assertHeld();
              },
            }),
          run,
        ),
      run,
    );
  }
}
