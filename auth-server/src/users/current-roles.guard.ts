import { type CanActivate, type ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { isPublic, requiredRolesOf } from '@reward/server-kit/auth.guards';
import { CommonErrorCode, DomainError } from '@reward/server-kit/errors';
import { type AuthenticatedUser, hasRequiredRole, requiresRolesMessage } from '@reward/server-kit/roles';
import { UserRepository } from './user.repository.js';

export const STALE_ACCESS_TOKEN = 'STALE_ACCESS_TOKEN';

const CURRENT_ACCOUNT = 'currentAccount';

/**
 * A route open to any signed-in user that still acts with staff reach (on other users' sessions, for an
 * ADMIN): it is judged like a staff route, by the current account, and a stale token is refused.
 */
export const CurrentAccount = (): MethodDecorator & ClassDecorator => SetMetadata(CURRENT_ACCOUNT, true);

/**
 * On the auth server's staff routes (those with @Roles or @CurrentAccount), the caller's roles are read from
 * the database, not from the token: a demoted or deleted ADMIN is refused at their next request, and so is a
 * token older than the user's last role change or "log out everywhere" (its access version is behind). Runs
 * after the global JWT and roles guards; other routes (the caller's own account) keep to the token.
 */
@Injectable()
export class CurrentRolesGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly users: UserRepository,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (isPublic(this.reflector, context)) return true;
    const required = requiredRolesOf(this.reflector, context);
    const currentAccount =
      this.reflector.getAllAndOverride<boolean>(CURRENT_ACCOUNT, [context.getHandler(), context.getClass()]) === true;
    if (required.length === 0 && !currentAccount) return true;
    const request = context.switchToHttp().getRequest<{ user?: AuthenticatedUser }>();
    const caller = request.user;
    if (!caller) throw new DomainError(401, CommonErrorCode.UNAUTHORIZED, 'Missing or invalid bearer token');
    const current = await this.users.findById(caller.id);
    if (!current) throw new DomainError(401, CommonErrorCode.UNAUTHORIZED, 'The account of this token no longer exists');
    if ((caller.accessVersion ?? 0) < current.accessVersion) {
      throw new DomainError(401, STALE_ACCESS_TOKEN, 'Roles or sessions changed since this token was issued; sign in again');
    }
    if (required.length > 0 && !hasRequiredRole(current.roles, required)) {
      throw new DomainError(403, CommonErrorCode.FORBIDDEN, requiresRolesMessage(required));
    }
    request.user = { ...caller, roles: [...current.roles] };
    return true;
  }
}
