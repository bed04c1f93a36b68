import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { DomainError } from '@reward/server-kit/errors';
import type { AuthenticatedUser } from '@reward/server-kit/roles';
import type { Observable } from 'rxjs';
import { AccessVersionRepository } from './access-version.repository.js';
import { claimsStaffRole, isStale } from './staff-access.rules.js';

export const STALE_ACCESS_TOKEN = 'STALE_ACCESS_TOKEN';

/**
 * Demotions and "log out everywhere" that stick: a request made with a token that claims a staff role, and
 * whose access version is older than the newest the auth server reported for its user, is refused with 401,
 * whatever roles the token carries (so no staff write, and no staff read either). Global, so a new staff
 * route needs nothing; an interceptor because it runs after every guard (the caller is known) and before the
 * handler. One indexed read per staff request, none for a player's, no cache: the bound is the outbox
 * relay's delay (about a second), well inside the promised 60 s.
 */
@Injectable()
export class StaffAccessInterceptor implements NestInterceptor {
  constructor(private readonly versions: AccessVersionRepository) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const user = context.switchToHttp().getRequest<{ user?: AuthenticatedUser }>().user;
    if (user && claimsStaffRole(user.roles) && isStale(user.accessVersion, await this.versions.findLatestVersion(user.id))) {
      throw new DomainError(401, STALE_ACCESS_TOKEN, 'Roles or sessions changed since this token was issued; sign in again');
    }
    return next.handle();
  }
}
