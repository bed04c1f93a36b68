import { type ExecutionContext, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { CommonErrorCode, DomainError } from './errors.js';
import { JWT_STRATEGY, describeFailure, isKeysUnavailable } from './jwt.strategy.js';
import { type AuthenticatedUser, type Role, hasRequiredRole, requiresRolesMessage } from './roles.js';

const IS_PUBLIC = 'auth:public';
const REQUIRED_ROLES = 'auth:roles';

/** The route needs no token. Everything else does (deny by default: the guards are global). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/** The roles that may call the route (ADMIN always may). No decorator: any authenticated user. */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_ROLES, roles);

export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): AuthenticatedUser => {
  return context.switchToHttp().getRequest<{ user: AuthenticatedUser }>().user;
});

/** The roles a route's @Roles() names (empty: any authenticated user, or no decorator at all). */
export function requiredRolesOf(reflector: Reflector, context: ExecutionContext): Role[] {
  return reflector.getAllAndOverride<Role[] | undefined>(REQUIRED_ROLES, [context.getHandler(), context.getClass()]) ?? [];
}

export function isPublic(reflector: Reflector, context: ExecutionContext): boolean {
  return reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]) === true;
}

@Injectable()
export class JwtAuthGuard extends AuthGuard(JWT_STRATEGY) {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext): ReturnType<ReturnType<typeof AuthGuard>['prototype']['canActivate']> {
    if (isPublic(this.reflector, context)) return true;
    return super.canActivate(context);
  }

  override handleRequest<TUser = AuthenticatedUser>(error: unknown, user: TUser | false, info: unknown): TUser {
    if (isKeysUnavailable(error ?? info))
      throw new DomainError(503, CommonErrorCode.SERVICE_UNAVAILABLE, describeFailure(error ?? info));
    if (error || !user) throw new DomainError(401, CommonErrorCode.UNAUTHORIZED, describeFailure(error ?? info));
    return user;
  }
}

@Injectable()
export class RolesGuard {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (isPublic(this.reflector, context)) return true;
    const required = requiredRolesOf(this.reflector, context);
    const user = context.switchToHttp().getRequest<{ user?: AuthenticatedUser }>().user;
    if (!user) throw new DomainError(401, CommonErrorCode.UNAUTHORIZED, 'Missing or invalid bearer token');
    if (!hasRequiredRole(user.roles, required)) {
      throw new DomainError(403, CommonErrorCode.FORBIDDEN, requiresRolesMessage(required));
    }
    return true;
  }
}
