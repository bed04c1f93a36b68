import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DomainError } from '@reward/server-kit/errors';
import { Role } from '@reward/server-kit/roles';
import type { AuthConfig } from '../config/auth-config.js';
import { AUTH_CONFIG } from '../config/config.module.js';
import { UserErrorCode } from '../users/user-errors.js';
import type { User } from '../users/user.js';
import { UsersService } from '../users/users.service.js';

/**
 * `promoted`: an existing account whose password is ADMIN_PASSWORD gained ADMIN; `not-admin`: the address
 * belongs to an account without ADMIN whose password is another, which is left as it is.
 */
export type AdminBootstrapOutcome = 'created' | 'promoted' | 'unchanged' | 'not-admin';

export interface AdminBootstrapResult {
  outcome: AdminBootstrapOutcome;
  userId: string;
}

/**
 * Makes sure the configured ADMIN account exists before the server takes requests, by creating it. An
 * existing account keeps its password (never overwritten), and gains ADMIN only when that password is
 * ADMIN_PASSWORD: anyone may have signed up with the address first, with a password of their own, and
 * making that account ADMIN would hand the role to them. Otherwise it is left as it is and the log says why
 * at error level; the server starts either way (other admins can give the role through the audited change).
 */
@Injectable()
export class AdminBootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminBootstrapService.name);

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly users: UsersService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { email, usingDefaults } = this.config.admin;
    if (usingDefaults) {
      this.logger.warn(`ADMIN_EMAIL/ADMIN_PASSWORD not set: using the development default admin account ${email}`);
    }
    const { outcome, userId } = await this.ensureAdmin();
    if (outcome === 'not-admin') {
      this.logger.error(
        `admin account ${email} (id ${userId}): the account exists and is not an ADMIN; it was not promoted, because its ` +
          'password is not ADMIN_PASSWORD (anyone may have registered the address). To make it an ADMIN, an ADMIN ' +
          'gives it the role with PATCH /users/{id}/roles; or choose another ADMIN_EMAIL.',
      );
    } else {
      this.logger.log(`admin account ${email}: ${outcome}`);
    }
  }

  async ensureAdmin(): Promise<AdminBootstrapResult> {
    const existing = await this.users.findByEmail(this.config.admin.email);
    if (existing) return this.promote(existing);
    try {
      const created = await this.users.createAdmin(this.config.admin.email, this.config.admin.password);
      return { outcome: 'created', userId: created.id };
    } catch (error) {
      // The unique email index let another replica (or a sign-up) insert the address first: that account stays
      // as it is.
      if (!(error instanceof DomainError && error.code === UserErrorCode.EMAIL_TAKEN)) throw error;
      const winner = await this.users.findByEmail(this.config.admin.email);
      if (!winner) throw error;
      return this.promote(winner);
    }
  }

  private async promote(user: User): Promise<AdminBootstrapResult> {
    if (user.roles.includes(Role.ADMIN)) return { outcome: 'unchanged', userId: user.id };
    const granted = await this.users.grantRoleToHolderOf(user, Role.ADMIN, this.config.admin.password);
    return { outcome: granted ? 'promoted' : 'not-admin', userId: user.id };
  }
}
