import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Role } from '@reward/server-kit/roles';
import { Types, type Model, trusted } from 'mongoose';
import { isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import { readBoundedListPage } from '@reward/server-kit/list-read';
import { AUTH_CONFIG } from '../config/config.module.js';
import type { AuthConfig } from '../config/auth-config.js';
import { toUser, toUserCredentials } from './user.mapper.js';
import { type PendingRoleReport, UserEntity } from './user.schema.js';
import type { NewUser, User, UserCredentials } from './user.js';

/** Why an insert was refused: the two unique indexes of `users`. */
export type UserInsertResult = { inserted: User } | { duplicate: 'email' | 'referralCode' };

export const USER_LIST_TOO_SLOW_MESSAGE =
  'The user list took longer to read than the server spends on one (LIST_READ_MAX_MS); nothing was changed: ' +
  'narrow it with its role filter or try again later';

@Injectable()
export class UserRepository implements OnModuleInit {
  constructor(
    @InjectModel(UserEntity.name) private readonly model: Model<UserEntity>,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  /** The unique indexes are the invariants: they must exist before the first request. */
  async onModuleInit(): Promise<void> {
    await this.model.init();
  }

  /**
   * Inserts; the unique indexes decide. FerretDB does not name the index it refused on, so a refusal
   * is attributed by reading afterwards (the insert already decided; the read only explains why).
   */
  async insert(user: NewUser): Promise<UserInsertResult> {
    try {
      const { id, ...rest } = user;
      // A referral's invite is still to be written (cleared by clearInvitePending once it is).
      const fields = rest.referredBy ? { ...rest, invitePending: true } : rest;
      const document = await this.model.create(id === undefined ? fields : { ...fields, _id: new Types.ObjectId(id) });
      return { inserted: toUser(document.toObject()) };
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const emailTaken = await this.model.exists({ email: user.email }).exec();
      return { duplicate: emailTaken ? 'email' : 'referralCode' };
    }
  }

  async findById(id: string): Promise<User | undefined> {
    if (!Types.ObjectId.isValid(id)) return undefined;
    const document = await this.model.findById(id).lean<UserEntity>().exec();
    return document ? toUser(document) : undefined;
  }

  async findByEmail(email: string): Promise<User | undefined> {
    const document = await this.model.findOne({ email }).lean<UserEntity>().exec();
    return document ? toUser(document) : undefined;
  }

  async findCredentialsByEmail(email: string): Promise<UserCredentials | undefined> {
    const document = await this.model
      .findOne({ email })
      .select({ _id: 1, roles: 1, passwordHash: 1, accessVersion: 1, sessionEpoch: 1 })
      .lean<Pick<UserEntity, '_id' | 'roles' | 'passwordHash' | 'accessVersion' | 'sessionEpoch'>>()
      .exec();
    return document ? toUserCredentials(document) : undefined;
  }

  async findIdByReferralCode(referralCode: string): Promise<string | undefined> {
    const document = await this.model.findOne({ referralCode }).select({ _id: 1 }).lean<Pick<UserEntity, '_id'>>().exec();
    return document?._id.toHexString();
  }

  /**
   * Newest first; `role` matches users holding that role among others. Its page and count are each bounded in
   * store time (LIST_READ_MAX_MS): with a launch's players registered, the store may take seconds over every
   * user (FerretDB reads and sorts them all), and the store that reads them also signs everyone in.
   */
  async findPage(filter: { role?: Role }, skip: number, limit: number): Promise<{ items: User[]; total: number }> {
    const query = filter.role ? { roles: filter.role } : {};
    const { docs, total } = await readBoundedListPage(
      this.model.find(query).sort({ createdAt: -1, _id: -1 }).skip(skip).limit(limit).lean<UserEntity[]>(),
      this.model.countDocuments(query),
      this.config.lists.readMaxMs,
      USER_LIST_TOO_SLOW_MESSAGE,
    );
    return { items: docs.map(toUser), total };
  }

  /** Whether any user other than `exceptId` holds ADMIN (one indexed probe, not a count). */
  async anotherAdminExists(exceptId: string): Promise<boolean> {
    const found = await this.model.exists({ roles: Role.ADMIN, _id: trusted({ $ne: new Types.ObjectId(exceptId) }) }).exec();
    return found !== null;
  }

  /**
   * A plain overwrite, and a bump of the access version (tokens issued before carry an older one). Callers
   * hold the role-change mutex, which is what keeps "at least one ADMIN" true, and the user's (the write
   * itself is not atomic). Returns the roles this write replaced, for the audit entry.
   */
  async replaceRoles(id: string, roles: Role[], report?: PendingRoleReport): Promise<{ user: User; before: Role[] } | undefined> {
    // The change's report rides on its own write (one document: both or neither); a put-back takes it off.
    const update = report
      ? { $set: { roles, pendingRoleReport: report }, $inc: { accessVersion: 1 } }
      : { $set: { roles }, $unset: { pendingRoleReport: 1 }, $inc: { accessVersion: 1 } };
    const previous = await this.model.findByIdAndUpdate(id, update, { returnDocument: 'before' }).lean<UserEntity>().exec();
    if (!previous) return undefined;
    const user = toUser({ ...previous, roles, accessVersion: (previous.accessVersion ?? 0) + 1 });
    return { user, before: [...previous.roles] };
  }

  /** The report of the user's last role change if it was not made yet (UserEntity.pendingRoleReport). */
  async findPendingRoleReport(id: string): Promise<PendingRoleReport | undefined> {
    const doc = await this.model.findById(id, { pendingRoleReport: 1 }).lean<Pick<UserEntity, 'pendingRoleReport'>>().exec();
    return doc?.pendingRoleReport ?? undefined;
  }

  /** Takes a made report off the user; the caller holds the user's mutex (the update writes the user back). */
  async clearPendingRoleReport(id: string, key: string): Promise<void> {
    await this.model.updateOne({ _id: id, 'pendingRoleReport.key': key }, { $unset: { pendingRoleReport: 1 } }).exec();
  }

  /** Ids of users whose last role change was not reported (PendingUserReportSweep), at most `limit`. */
  async findIdsWithPendingRoleReport(limit: number): Promise<string[]> {
    const docs = await this.model
      .find({ 'pendingRoleReport.key': trusted({ $exists: true }) }, { _id: 1 })
      .limit(limit)
      .lean<Array<Pick<UserEntity, '_id'>>>()
      .exec();
    return docs.map((doc) => doc._id.toHexString());
  }

  /**
   * Access tokens of older versions stop making staff writes; refresh tokens keep working (a logout: the
   * user's other sessions get a token of the new version at their next refresh). The caller holds the user's
   * mutex (the update writes the whole user back on our store).
   */
  async bumpAccessVersion(id: string): Promise<User | undefined> {
    const previous = await this.model
      .findByIdAndUpdate(id, { $inc: { accessVersion: 1 } }, { returnDocument: 'before' })
      .lean<UserEntity>()
      .exec();
    if (!previous) return undefined;
    return toUser({ ...previous, accessVersion: (previous.accessVersion ?? 0) + 1 });
  }

  /** "Log out everywhere": refresh tokens of older epochs and access tokens of older versions stop working. */
  bumpSessions(id: string): Promise<User | undefined> {
    return this.endSessions(id);
  }

  /**
   * A new password hash, with every session ended as by bumpSessions (in one write: on our store an update
   * writes the whole user back, so the caller holds the user's mutex).
   */
  replacePassword(id: string, passwordHash: string): Promise<User | undefined> {
    return this.endSessions(id, { passwordHash });
  }

  /** Bumps the access version and the session epoch (and sets `set`): the user as it is after. */
  private async endSessions(id: string, set?: Partial<Pick<UserEntity, 'passwordHash'>>): Promise<User | undefined> {
    const previous = await this.model
      .findByIdAndUpdate(
        id,
        { ...(set && { $set: set }), $inc: { accessVersion: 1, sessionEpoch: 1 } },
        { returnDocument: 'before' },
      )
      .lean<UserEntity>()
      .exec();
    if (!previous) return undefined;
    return toUser({
      ...previous,
      ...set,
      accessVersion: (previous.accessVersion ?? 0) + 1,
      sessionEpoch: (previous.sessionEpoch ?? 0) + 1,
    });
  }

  /** Undoes a registration whose required side effect (its outbox row) could not be written. */
  /** The referral's invite is written (see UserEntity.invitePending); the caller holds the user's mutex, or made it now. */
  async clearInvitePending(id: string): Promise<void> {
    await this.model.updateOne({ _id: new Types.ObjectId(id), invitePending: true }, { $unset: { invitePending: 1 } }).exec();
  }

  /** Accounts made before `before` whose referral's invite was not written (PendingUserReportSweep), at most `limit`. */
  async findInvitesPending(before: Date, limit: number): Promise<Array<{ id: string; referredBy: string; createdAt: Date }>> {
    const docs = await this.model
      .find({ invitePending: true, createdAt: trusted({ $lt: before }) }, { _id: 1, referredBy: 1, createdAt: 1 })
      .limit(limit)
      .lean<Array<Pick<UserEntity, '_id' | 'referredBy' | 'createdAt'>>>()
      .exec();
    return docs.flatMap((doc) =>
      doc.referredBy ? [{ id: doc._id.toHexString(), referredBy: doc.referredBy, createdAt: doc.createdAt }] : [],
    );
  }

  async deleteById(id: string): Promise<void> {
    await this.model.deleteOne({ _id: new Types.ObjectId(id) }).exec();
  }
}
