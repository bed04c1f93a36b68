import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DomainError } from '@reward/server-kit/errors';
import { Role } from '@reward/server-kit/roles';
import type { AuthConfig } from '../config/auth-config.js';
import { AUTH_CONFIG } from '../config/config.module.js';
import { UserErrorCode } from '../users/user-errors.js';
import type { User } from '../users/user.js';
import { UsersService } from '../users/users.service.js';

/** `not-admin`: the address belongs to an account without ADMIN, which is left as it is. */
export type AdminBootstrapOutcome = 'created' | 'unchanged' | 'not-admin';

export interface AdminBootstrapResult {
  outcome: AdminBootstrapOutcome;
  userId: string;
}

/**
 * Makes sure the configured ADMIN account exists before the server takes requests, by creating it. An
 * existing account is never changed: its password was not set by this configuration (anyone may have signed
 * up with the address first), and an ADMIN may have demoted it on purpose, so making it ADMIN at boot would
 * hand the role to whoever holds that password, with no audit entry. The server starts either way: other
 * admins can still give the role through the audited role change.
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
        `admin account ${email} (id ${userId}): the account exists and is not an ADMIN; it was not promoted, because its password ` +
          'was not set by this configuration (ADMIN_PASSWORD is only the initial password of an account the server ' +
          'creates). To make it an ADMIN, an ADMIN gives it the role with PATCH /users/{id}/roles; or choose another ' +
          'ADMIN_EMAIL.',
      );
    } else {
      this.logger.log(`admin account ${email}: ${outcome}`);
    }
  }

  async ensureAdmin(): Promise<AdminBootstrapResult> {
    const existing = await this.users.findByEmail(this.config.admin.email);
    if (existing) return resultFor(existing);
    try {
      const created = await this.users.createAccount({
        email: this.config.admin.email,
        password: this.config.admin.password,
        roles: [Role.ADMIN],
      });
      return { outcome: 'created', userId: created.id };
    } catch (error) {
      // The unique email index let another replica (or a sign-up) insert the address first: that account stays
      // as it is.
      if (!(error instanceof DomainError && error.code === UserErrorCode.EMAIL_TAKEN)) throw error;
      const winner = await this.users.findByEmail(this.config.admin.email);
      if (!winner) throw error;
      return resultFor(winner);
    }
  }
}

function resultFor(user: User): AdminBootstrapResult {
  return { outcome: user.roles.includes(Role.ADMIN) ? 'unchanged' : 'not-admin', userId: user.id };
}
