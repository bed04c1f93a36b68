import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DomainError } from '@reward/server-kit/errors';
import { Role } from '@reward/server-kit/roles';
import type { AuthConfig } from '../config/auth-config.js';
import { AUTH_CONFIG } from '../config/config.module.js';
import { UserErrorCode } from '../users/user-errors.js';
import type { User } from '../users/user.js';
import { UsersService } from '../users/users.service.js';

export type AdminBootstrapOutcome = 'created' | 'promoted' | 'unchanged';

/**
 * Makes sure the configured ADMIN account exists before the server takes requests. An existing account
 * keeps its password (the configured one is only the initial password); it only gains the ADMIN role.
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
    const outcome = await this.ensureAdmin();
    this.logger.log(`admin account ${email}: ${outcome}`);
  }

  async ensureAdmin(): Promise<AdminBootstrapOutcome> {
    const existing = await this.users.findByEmail(this.config.admin.email);
    if (existing) return this.promote(existing);
    try {
      await this.users.createAccount({
        email: this.config.admin.email,
        password: this.config.admin.password,
        roles: [Role.ADMIN],
      });
      return 'created';
    } catch (error) {
      // Another replica (or a sign-up) inserted the address first: keep that account, make it ADMIN.
      if (!(error instanceof DomainError && error.code === UserErrorCode.EMAIL_TAKEN)) throw error;
      const winner = await this.users.findByEmail(this.config.admin.email);
      if (!winner) throw error;
      return this.promote(winner);
    }
  }

  private async promote(user: User): Promise<AdminBootstrapOutcome> {
    if (user.roles.includes(Role.ADMIN)) return 'unchanged';
    await this.users.grantRole(user, Role.ADMIN);
    return 'promoted';
  }
}
