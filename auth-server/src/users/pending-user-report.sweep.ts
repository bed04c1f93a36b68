import { Injectable, Logger } from '@nestjs/common';
import { PeriodicSweep } from '@reward/server-kit/periodic-sweep';
import { RoleChangeLock, userMutex } from '../role-lock/role-change-lock.js';
import { UserRepository } from './user.repository.js';
import { UsersService } from './users.service.js';

/** How often the users are looked through for a role change not reported (as often as expired tokens are swept). */
export const ROLE_REPORT_SWEEP_MS = 10 * 60 * 1000;
const SWEEP_BATCH = 100;
/** A referral sign-up younger than this may still be writing its invite itself. */
const INVITE_GRACE_MS = 60_000;

/**
 * Writes the referral invites that sign-ups were cut off before (UserEntity.invitePending: the account inserted,
 * the process dead before the invite's row), and reports the role changes that were written but cut off before their outbox rows (the process died, or the store
 * failed and failed the put-back too: UserEntity.pendingRoleReport) and that no later role change of the user has
 * reported: when the server starts (a crashed server is restarted) and then every ROLE_REPORT_SWEEP_MS. Each under
 * the user's mutex, as every write of a user; one whose mutex is busy (a dead holder's lease runs 10 s) waits
 * for the next sweep. The rows' ids come from the change, so a report made twice is one row each.
 */
@Injectable()
export class PendingUserReportSweep extends PeriodicSweep {
  protected readonly logger = new Logger(PendingUserReportSweep.name);

  constructor(
    private readonly users: UserRepository,
    private readonly service: UsersService,
    private readonly roleLock: RoleChangeLock,
  ) {
    super('role report sweep', ROLE_REPORT_SWEEP_MS);
  }

  protected async sweepOnce(now: Date): Promise<void> {
    // A sign-up under way writes its own invite (or removes its account when it cannot): a minute is left to it.
    for (const invite of await this.users.findInvitesPending(new Date(now.getTime() - INVITE_GRACE_MS), SWEEP_BATCH)) {
      try {
        await this.roleLock.runExclusive(userMutex(invite.id), (lease) => this.service.writePendingInvite(invite, lease));
      } catch (error) {
        this.logger.warn(`the invite of user ${invite.id} waits for the next sweep to be written: ${String(error)}`);
      }
    }
    for (const id of await this.users.findIdsWithPendingRoleReport(SWEEP_BATCH)) {
      try {
        await this.roleLock.runExclusive(userMutex(id), (lease) => this.service.reportPendingRoleChange(id, lease));
      } catch (error) {
        this.logger.warn(`the role change of user ${id} waits for the next sweep to be reported: ${String(error)}`);
      }
    }
  }
}
