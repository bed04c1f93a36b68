import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { requiredRolesOf } from '@reward/server-kit/auth.guards';
import { DomainError } from '@reward/server-kit/errors';
import type { AuthenticatedUser } from '@reward/server-kit/roles';
import type { Observable } from 'rxjs';
import { AccessVersionRepository } from './access-version.repository.js';
import { isStaffWrite, isStale } from './staff-write.rules.js';

export const STALE_ACCESS_TOKEN = 'STALE_ACCESS_TOKEN';

/**
 * Demotions and "log out everywhere" that stick: a staff write (see isStaffWrite) from a token whose access
 * version is older than the newest the auth server reported for its user is refused with 401, whatever roles
 * the token carries. Global, so a new staff route is covered by its @Roles alone; an interceptor because it
 * runs after every guard (the caller is known) and before the handler. One indexed read per staff write, no
 * cache: the bound is the outbox relay's delay (about a second), well inside the promised 60 s.
 */
@Injectable()
export class StaffWriteInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly versions: AccessVersionRepository,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<{ method: string; user?: AuthenticatedUser }>();
    const user = request.user;
    if (user && isStaffWrite(request.method, requiredRolesOf(this.reflector, context))) {
      if (isStale(user.accessVersion, await this.versions.findLatestVersion(user.id))) {
        throw new DomainError(401, STALE_ACCESS_TOKEN, 'Roles or sessions changed since this token was issued; sign in again');
      }
    }
    return next.handle();
  }
}
