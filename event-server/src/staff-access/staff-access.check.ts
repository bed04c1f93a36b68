import { Injectable } from '@nestjs/common';
import type { CurrentAccessCheck } from '@reward/server-kit/auth.guards';
import { DomainError } from '@reward/server-kit/errors';
import type { AuthenticatedUser } from '@reward/server-kit/roles';
import { AccessVersionRepository } from './access-version.repository.js';
import { claimsStaffRole, isStale } from './staff-access.rules.js';

export const STALE_ACCESS_TOKEN = 'STALE_ACCESS_TOKEN';

/**
 * Demotions and "log out everywhere" that stick: a request made with a token that claims a staff role, and
 * whose access version is older than the newest the auth server reported for its user, is refused with 401,
 * whatever roles the token carries (so no staff write, and no staff read either). Made by the global RolesGuard
 * after the token and the roles on every route with a caller (CURRENT_ACCESS_CHECK), so a new staff route needs
 * nothing. One indexed read per staff request, none for a player's, no cache: the bound is the outbox relay's
 * delay (about a second), well inside the promised 60 s.
 */
@Injectable()
export class StaffAccessCheck implements CurrentAccessCheck {
  constructor(private readonly versions: AccessVersionRepository) {}

  check(user: AuthenticatedUser): void | Promise<void> {
    if (!claimsStaffRole(user.roles)) return;
    return this.versions.findLatestVersion(user.id).then((latest) => {
      if (isStale(user.accessVersion, latest)) {
        throw new DomainError(401, STALE_ACCESS_TOKEN, 'Roles or sessions changed since this token was issued; sign in again');
      }
    });
  }
}
