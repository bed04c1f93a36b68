import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Types } from 'mongoose';
import { CommonErrorCode, DomainError, tooManyRequests } from '@reward/server-kit/errors';
import type { Page } from '@reward/server-kit/pagination';
import { Role } from '@reward/server-kit/roles';
import { OutboxService } from '../outbox/outbox.service.js';
import { ADMIN_ROLES_MUTEX, RoleChangeLock, userMutex } from '../role-lock/role-change-lock.js';
import { LoginThrottleService } from '../throttling/login-throttle.service.js';
import type { PasswordRequest } from '../throttling/password-gate.js';
import { passwordProblem } from './password-policy.js';
import { PasswordHasher } from './password-hasher.js';
import { generateReferralCode } from './referral-code.js';
import { emailTaken, invalidReferralCode, lastAdmin, notAdminAnymore, userNotFound, wrongPassword } from './user-errors.js';
import { UserRepository } from './user.repository.js';
import type { PendingRoleReport } from './user.schema.js';
import { type User, type UserCredentials, legacyEmailSpelling, normaliseEmail } from './user.js';

const REFERRAL_CODE_ATTEMPTS = 5;

export interface NewAccount {
  /** The id to store it under, when the caller must name the account before it exists. */
  id?: string;
  email: string;
  password: string;
  nickname?: string;
  roles: Role[];
  referredBy?: string;
}

@Injectable()
export class UsersService {
  constructor(
    private readonly users: UserRepository,
    private readonly passwords: PasswordHasher,
    private readonly outbox: OutboxService,
    private readonly roleLock: RoleChangeLock,
    private readonly throttle: LoginThrottleService,
  ) {}

  /**
   * Public sign-up: always a plain USER; a referral code must name an existing user. `request`: who asks, and by
   * when (PasswordGate.run, for the password's hash).
   */
  async register(
    input: { email: string; password: string; nickname?: string; referralCode?: string },
    request?: PasswordRequest,
  ): Promise<User> {
    let referredBy: string | undefined;
    if (input.referralCode !== undefined) {
      referredBy = await this.users.findIdByReferralCode(input.referralCode);
      if (!referredBy) throw invalidReferralCode();
    }
    const user = await this.createAccount(
      { email: input.email, password: input.password, nickname: input.nickname, roles: [Role.USER], referredBy },
      request,
    );
    if (referredBy) await this.recordInvite(referredBy, user);
    return user;
  }

  /**
   * The invite counts for the code's owner and is written before answering. Without it the request fails,
   * and the account goes too, so that retrying the sign-up is not refused with EMAIL_TAKEN and the invite
   * is not lost for good (best effort: if the database is gone, the delete fails as well).
   */
  private async recordInvite(referrerId: string, invitee: User): Promise<void> {
    try {
      await this.outbox.enqueueFriendInvite(referrerId, invitee.id, invitee.createdAt);
    } catch (error) {
      await this.users.deleteById(invitee.id).catch(() => undefined);
      throw error;
    }
    // The account carried `invitePending` from its insert: a crash before the row leaves it for the sweep
    // (PendingUserReportSweep). Not cleared (a store gone now), the sweep writes the row again: the event server
    // records the invite once (its externalId).
    await this.users.clearInvitePending(invitee.id).catch(() => undefined);
  }

  /** A referral's invite that its sign-up did not write (see recordInvite), written now; under the user's mutex. */
  async writePendingInvite(invite: { id: string; referredBy: string; createdAt: Date }, lease: { assertHeld(): void }) {
    await this.outbox.enqueueFriendInvite(invite.referredBy, invite.id, invite.createdAt);
    lease.assertHeld();
    await this.users.clearInvitePending(invite.id);
  }

  /**
   * Inserts the account; the unique email index decides who wins a race (409 for the others), the unique
   * referral-code index makes a colliding random code draw again. `request`: who asks, and by when (PasswordGate.run).
   */
  async createAccount(account: NewAccount, request?: PasswordRequest): Promise<User> {
    const email = normaliseEmail(account.email);
    // An account stored before emails were normalised as now, under this very spelling (no unique index
    // sees it: its stored form differs from the normalised one).
    const legacy = legacyEmailSpelling(account.email);
    if (legacy !== email && (await this.users.findByEmail(legacy))) throw emailTaken();
    const passwordHash = await this.passwords.hash(account.password, request);
    for (let attempt = 0; attempt < REFERRAL_CODE_ATTEMPTS; attempt += 1) {
      const result = await this.users.insert({
        ...(account.id !== undefined && { id: account.id }),
        email,
        passwordHash,
        nickname: account.nickname ?? null,
        roles: account.roles,
        referralCode: generateReferralCode(),
        referredBy: account.referredBy ?? null,
      });
      if ('inserted' in result) return result.inserted;
      if (result.duplicate === 'email') throw emailTaken();
    }
    throw new Error(`no free referral code after ${REFERRAL_CODE_ATTEMPTS} attempts`);
  }

  /**
   * The configured admin account, created at boot with ADMIN (AdminBootstrapService): reported to the audit log
   * as a role change from none to ADMIN by the account itself (the holder of ADMIN_PASSWORD), as a promotion at
   * boot is. Under the role-change mutex (instances starting at once make it one at a time; the second finds it
   * and throws EMAIL_TAKEN), the entry is written first, naming the id the account is then stored under: a
   * crash in between leaves an entry for an account that was never made, never an ADMIN without an entry.
   */
  async createAdmin(email: string, password: string): Promise<User> {
    return this.roleLock.runExclusive(ADMIN_ROLES_MUTEX, async (lease) => {
      if (await this.findByEmail(email)) throw emailTaken();
      const id = new Types.ObjectId().toString();
      lease.assertHeld();
      await this.outbox.enqueueRoleChange({ actorId: id, targetId: id, before: [], after: [Role.ADMIN] }, new Date());
      return this.createAccount({ id, email, password, roles: [Role.ADMIN] });
    });
  }

  find(id: string): Promise<User | undefined> {
    return this.users.findById(id);
  }

  async get(id: string): Promise<User> {
    const user = await this.users.findById(id);
    if (!user) throw userNotFound(id);
    return user;
  }

  /** Only the login path sees the hash. */
  findCredentials(email: string): Promise<UserCredentials | undefined> {
    return findBySpellings(email, (spelling) => this.users.findCredentialsByEmail(spelling));
  }

  findByEmail(email: string): Promise<User | undefined> {
    return findBySpellings(email, (spelling) => this.users.findByEmail(spelling));
  }

  /**
   * The configured admin account gaining ADMIN at boot (the server's own doing, not a staff change), only when
   * `password` (ADMIN_PASSWORD) is its password: whoever set it holds the deployment's secret. True if granted
   * (or held already). Made like any role change: under the role-change mutex, on the roles as they are now,
   * reported to the audit log (the account itself as the actor: the holder of ADMIN_PASSWORD) and its access
   * version relayed, in this call; if a row cannot be written the previous roles are put back and it throws.
   * Unaudited, an ADMIN's removal of the role from this account came back silently at every restart.
   */
  async grantRoleToHolderOf(user: User, role: Role, password: string): Promise<boolean> {
    const credentials = await this.users.findCredentialsByEmail(user.email);
    if (!credentials || !(await this.passwords.verify(password, credentials.passwordHash))) return false;
    return this.roleLock.runStaffChange(user.id, async (lease) => {
      const current = await this.users.findById(user.id);
      if (!current) throw userNotFound(user.id);
      await this.reportPendingRoleChange(user.id, lease);
      if (current.roles.includes(role)) return true;
      lease.assertHeld();
      await this.replaceRolesReported(user.id, current, [...current.roles, role]);
      return true;
    });
  }

  async list(query: { role?: Role; page: number; limit: number }): Promise<Page<User>> {
    const { items, total } = await this.users.findPage({ role: query.role }, (query.page - 1) * query.limit, query.limit);
    return { items, page: query.page, limit: query.limit, total };
  }

  /**
   * An ADMIN's role change. Every role change holds the one role-change mutex (a unique insert, see
   * RoleChangeLock), inside the user's (RoleChangeLock.runStaffChange), so "does another ADMIN exist?" and the
   * write cannot interleave with another change, nor the write with another write of the user:
   * two admins demoting each other at once leave one of them ADMIN (the second gets 409 LAST_ADMIN), and an
   * actor demoted a moment ago is refused. The access version is bumped with the roles and relayed to the
   * event server (staff writes from older tokens stop within 60 s). A change that changes something is
   * reported to the audit log through the outbox, in this request; if a row cannot be written the request
   * fails and the previous roles are put back (best effort), so an unaudited change does not stand. `startBy`: the
   * request's start-by time (startByOf), which bounds the waits for both mutexes and the write's start (503).
   */
  async changeRoles(actorId: string, id: string, roles: Role[], startBy?: number): Promise<User> {
    const after = [...new Set(roles)];
    return this.roleLock.runStaffChange(
      id,
      async (lease) => {
        const [actor, target] = await Promise.all([this.users.findById(actorId), this.users.findById(id)]);
        if (!actor?.roles.includes(Role.ADMIN)) throw notAdminAnymore();
        if (!target) throw userNotFound(id);
        // The user's last change, if it was cut off before its report (the same change sent again comes here too).
        await this.reportPendingRoleChange(id, lease);
        if (sameRoles(target.roles, after)) return target;
        if (target.roles.includes(Role.ADMIN) && !after.includes(Role.ADMIN) && !(await this.users.anotherAdminExists(id))) {
          throw lastAdmin();
        }
        lease.assertHeld();
        return this.replaceRolesReported(actorId, target, after);
      },
      { startBy },
    );
  }

  /**
   * Writes `roles` (under the role-change mutex and the user's, held by the caller) and reports the change
   * through the outbox, in this call: the access version and the audit row. The report rides on the roles' own
   * write (UserEntity.pendingRoleReport) and is taken off once made: a change cut off before its rows (the process
   * dying, the store failing and failing the put-back too) is reported later, once (reportPendingRoleChange: the
   * user's next role change, PendingUserReportSweep), never left standing unreported. If a row cannot be written
   * the previous roles are put back (best effort) and it throws, so an unaudited change does not stand.
   */
  private async replaceRolesReported(actorId: string, target: User, roles: Role[]): Promise<User> {
    const report: PendingRoleReport = {
      key: randomUUID(),
      actorId,
      before: [...target.roles],
      after: [...roles],
      accessVersion: target.accessVersion + 1,
      at: new Date(),
    };
    const change = await this.users.replaceRoles(target.id, roles, report);
    if (!change) throw userNotFound(target.id);
    const { user, before } = change;
    try {
      await this.report(target.id, { ...report, before, accessVersion: user.accessVersion });
    } catch (error) {
      await this.users.replaceRoles(target.id, before).catch(() => undefined);
      throw error;
    }
    return user;
  }

  /**
   * Makes the report of the user's last role change if it was not made (see replaceRolesReported), then takes it
   * off; the caller holds the user's mutex (`lease`).
   */
  async reportPendingRoleChange(userId: string, lease: { assertHeld(): void }): Promise<void> {
    const pending = await this.users.findPendingRoleReport(userId);
    if (!pending) return;
    lease.assertHeld();
    await this.report(userId, pending);
  }

  /** A role change's rows, each written once however often it is reported, then its report taken off the user. */
  private async report(targetId: string, report: PendingRoleReport): Promise<void> {
    const at = new Date(report.at);
    // The access notice first: should the audit entry then fail, the change is put back and its notice only
    // makes the user's older tokens stale. The other way round, an entry would stand for a change put back.
    await this.outbox.enqueueAccessVersion(targetId, report.accessVersion, 'ROLES_CHANGED', at, report.key);
    const { actorId, before, after } = report;
    await this.outbox.enqueueRoleChange({ actorId, targetId, before, after }, at, report.key);
    await this.users.clearPendingRoleReport(targetId, report.key);
  }

  /**
   * The caller's new password, given the current one: every session ends (refresh tokens at once, access
   * tokens for staff routes as after "log out everywhere"), the caller's too, so whoever knew the old password
   * is signed out and cannot sign in again. A wrong current password is 403 WRONG_PASSWORD and counts as a
   * failed login of the account from `client` (the same throttle, under the account's sign-in name: an access
   * token alone must not let anyone guess the password at leisure); 429 once throttled. Under the user's
   * mutex (every write of a user holds it) the password is read again: of two changes at once (the owner's and
   * a thief's with the same old password) the second finds it changed and is 403, not a silent overwrite. As
   * with "log out everywhere", the new access version's notice follows the write: if it cannot be written (503),
   * the password is changed and every refresh token refused, and the event server learns of the version with
   * the next notice (a staff token issued before keeps its staff writes there until it expires, 15 minutes).
   * `startBy`: the request's start-by time (startByOf): the password is not written past it (503), however long the
   * hashing and the user's mutex made it wait.
   */
  async changePassword(
    userId: string,
    currentPassword: string,
    newPassword: string,
    client: string,
    startBy?: number,
  ): Promise<void> {
    const user = await this.get(userId);
    // The body's own rules were checked by its DTO (the current password among them); the account's email is here.
    const problem = passwordProblem(newPassword, { email: user.email });
    if (problem) throw new DomainError(400, CommonErrorCode.VALIDATION_FAILED, [`newPassword ${problem}`]);
    const verdict = await this.throttle.beginLogin(normaliseEmail(user.email).slice(0, 254), client);
    if (!verdict.allowed) throw tooManyRequests('failed logins', verdict.retryAfterSeconds);
    let failed = false;
    try {
      const checked = (await this.users.findCredentialsByEmail(user.email))?.passwordHash;
      // In the turns of the caller's client (the password gate is fair by client), not of every password change's,
      // and not started past the start-by time (shed: 503 AUTH_BUSY, nothing compared or written).
      const passwordRequest = { client, startBy };
      if (!(await this.passwords.verify(currentPassword, checked, passwordRequest))) {
        failed = true;
        throw wrongPassword();
      }
      const passwordHash = await this.passwords.hash(newPassword, passwordRequest);
      await this.roleLock.runExclusive(
        userMutex(userId),
        async (lease) => {
          const current = await this.users.findCredentialsByEmail(user.email);
          if (!current) throw userNotFound(userId);
          if (current.passwordHash !== checked) throw wrongPassword();
          lease.assertHeld();
          const changed = await this.users.replacePassword(userId, passwordHash);
          if (!changed) throw userNotFound(userId);
          await this.outbox.enqueueAccessVersion(userId, changed.accessVersion, 'LOGGED_OUT_EVERYWHERE', new Date());
        },
        { startBy },
      );
    } finally {
      await (failed ? this.throttle.failed(verdict.attemptId) : this.throttle.forget(verdict.attemptId));
    }
  }

  /**
   * "Log out everywhere" for `targetId`, by the user themselves or by an ADMIN (current roles, not the
   * token's): every refresh token stops working now, and the new access version reaches the event server
   * through the outbox, which then refuses staff writes from older access tokens. It holds the user's mutex,
   * as a role change does: on our store the bump writes the whole user back, so a bump that read the user
   * before a role change was written would put the old roles back (a demotion undone by the demoted user's own
   * logout-all). An ADMIN's on another user holds the role-change mutex too (runStaffChange), as any staff
   * change, so that an ADMIN demoted a moment ago is refused; a user's own takes the user's alone, so no crowd
   * of users logging themselves out holds up a role change. `startBy`: the request's start-by time (startByOf),
   * which bounds the waits for the mutexes and the writes' start (503).
   */
  async logoutEverywhere(actorId: string, targetId: string, startBy?: number): Promise<void> {
    if (actorId === targetId) {
      return this.roleLock.runExclusive(userMutex(targetId), (lease) => this.endSessions(actorId, targetId, lease), {
        startBy,
      });
    }
    // Any signed-in user may send this for anyone: one who is no ADMIN is refused before taking the target's mutex
    // and the role-change one, so that no crowd of such requests holds up role changes or the target's own writes.
    // endSessions asks again under the mutexes (an ADMIN demoted meanwhile).
    if (!(await this.users.findById(actorId))?.roles.includes(Role.ADMIN)) throw notAdminAnymore();
    return this.roleLock.runStaffChange(targetId, (lease) => this.endSessions(actorId, targetId, lease), { startBy });
  }

  /**
   * A staff member's logout (TokensService.logout), made with an access token of version `tokenVersion`: if
   * that is still the user's, access tokens issued before stop making staff writes here and on the event server (the new access version, relayed through the outbox), as after "log out
   * everywhere", while the user's other sessions keep their refresh tokens and get a token of the new version
   * at their next refresh. A player's logout needs none of it (player routes do not look at the version).
   */
  async endStaffAccess(userId: string, tokenVersion: number): Promise<void> {
    // A stale token (a replayed logout) is told apart without the user's mutex: replays cannot hold it.
    if ((await this.users.findById(userId))?.accessVersion !== tokenVersion) return;
    await this.roleLock.runExclusive(userMutex(userId), async (lease) => {
      const current = await this.users.findById(userId);
      if (!current) throw userNotFound(userId);
      if (current.accessVersion !== tokenVersion) return;
      lease.assertHeld();
      const user = await this.users.bumpAccessVersion(userId);
      if (!user) throw userNotFound(userId);
      await this.outbox.enqueueAccessVersion(userId, user.accessVersion, 'LOGGED_OUT', new Date());
    });
  }

  /** Log out everywhere's work, under the mutexes its caller holds (`lease` says whether they still are). */
  private async endSessions(actorId: string, targetId: string, lease: { assertHeld(): void }): Promise<void> {
    if (actorId !== targetId) {
      const actor = await this.users.findById(actorId);
      if (!actor?.roles.includes(Role.ADMIN)) throw notAdminAnymore();
      // A staff change goes to the audit log (outbox) before it is made: if the entry cannot be written,
      // nothing changed. Undoing it instead would bring the ended sessions back.
      const target = await this.users.findById(targetId);
      if (!target) throw userNotFound(targetId);
      const change = { actorId, targetId, before: target.accessVersion, after: target.accessVersion + 1 };
      lease.assertHeld();
      await this.outbox.enqueueLogoutEverywhere(change, new Date());
    }
    lease.assertHeld();
    const user = await this.users.bumpSessions(targetId);
    if (!user) throw userNotFound(targetId);
    await this.outbox.enqueueAccessVersion(targetId, user.accessVersion, 'LOGGED_OUT_EVERYWHERE', new Date());
  }
}

/**
 * The account of an email: under its normalised spelling, else under its legacy one (legacyEmailSpelling),
 * as accounts were stored before emails were normalised as now. The second read happens only when the
 * spellings differ (a non-ASCII or punycode address), so an ASCII address costs one read, as before.
 */
async function findBySpellings<T>(email: string, find: (spelling: string) => Promise<T | undefined>): Promise<T | undefined> {
  const normalised = normaliseEmail(email);
  const legacy = legacyEmailSpelling(email);
  return (await find(normalised)) ?? (legacy === normalised ? undefined : find(legacy));
}

function sameRoles(a: Role[], b: Role[]): boolean {
  return a.length === b.length && [...a].sort().join() === [...b].sort().join();
}
