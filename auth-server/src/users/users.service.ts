import { Injectable } from '@nestjs/common';
import type { Page } from '@reward/server-kit/pagination';
import { Role } from '@reward/server-kit/roles';
import { PasswordHasher } from './password-hasher.js';
import { generateReferralCode } from './referral-code.js';
import { emailTaken, invalidReferralCode, userNotFound } from './user-errors.js';
import { UserRepository } from './user.repository.js';
import { type User, type UserCredentials, normaliseEmail } from './user.js';

const REFERRAL_CODE_ATTEMPTS = 5;

export interface NewAccount {
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
  ) {}

  /** Public sign-up: always a plain USER; a referral code must name an existing user. */
  async register(input: { email: string; password: string; nickname?: string; referralCode?: string }): Promise<User> {
    let referredBy: string | undefined;
    if (input.referralCode !== undefined) {
      referredBy = await this.users.findIdByReferralCode(input.referralCode);
      if (!referredBy) throw invalidReferralCode();
    }
    const user = await this.createAccount({
      email: input.email,
      password: input.password,
      nickname: input.nickname,
      roles: [Role.USER],
      referredBy,
    });
    // Outbox seam: when activities arrive, a FRIEND_INVITE for `referredBy` is recorded here, in this write path.
    return user;
  }

  /**
   * Inserts the account; the unique email index decides who wins a race (409 for the others), the unique
   * referral-code index makes a colliding random code draw again.
   */
  async createAccount(account: NewAccount): Promise<User> {
    const email = normaliseEmail(account.email);
    const passwordHash = await this.passwords.hash(account.password);
    for (let attempt = 0; attempt < REFERRAL_CODE_ATTEMPTS; attempt += 1) {
      const result = await this.users.insert({
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
    return this.users.findCredentialsByEmail(normaliseEmail(email));
  }

  findByEmail(email: string): Promise<User | undefined> {
    return this.users.findByEmail(normaliseEmail(email));
  }

  async list(query: { role?: Role; page: number; limit: number }): Promise<Page<User>> {
    const { items, total } = await this.users.findPage({ role: query.role }, (query.page - 1) * query.limit, query.limit);
    return { items, page: query.page, limit: query.limit, total };
  }

  /** Takes effect at the user's next access token (refresh reads the current roles). */
  async replaceRoles(id: string, roles: Role[]): Promise<User> {
    // Audit seam: the role change is an ADMIN's change and will be recorded when the audit log is reachable.
    const user = await this.users.replaceRoles(id, [...new Set(roles)]);
    if (!user) throw userNotFound(id);
    return user;
  }

  async grantRole(user: User, role: Role): Promise<User> {
    if (user.roles.includes(role)) return user;
    return this.replaceRoles(user.id, [...user.roles, role]);
  }
}
