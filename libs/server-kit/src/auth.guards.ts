import { type ExecutionContext, Inject, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { CommonErrorCode, DomainError } from './errors.js';
import {
  JWT_STRATEGY,
  REPEATED_AUTHORIZATION,
  authorizationRepeated,
  describeFailure,
  isKeysUnavailable,
} from './jwt.strategy.js';
import { type AuthenticatedUser, type Role, hasRequiredRole, requiresRolesMessage } from './roles.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

/**
 * A token that cannot be judged because the keys that verify it cannot be fetched: 503, not 401 (the token is
 * not known to be bad), with Retry-After (the exception filter sends retryAfterSeconds as the header): the keys
 * are fetched again after 1 s. Every server's guards answer so, for players' tokens and service tokens alike.
 */
export function signingKeysUnavailable(message: string): DomainError {
  return new DomainError(503, CommonErrorCode.SERVICE_UNAVAILABLE, message, { retryAfterSeconds: 1 });
}

const IS_PUBLIC = 'auth:public';
const REQUIRED_ROLES = 'auth:roles';

/** The route needs no token. Everything else does (deny by default: the guards are global). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

/** The roles that may call the route (ADMIN always may). No decorator: any authenticated user. */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_ROLES, roles);

export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): AuthenticatedUser => {
  return context.switchToHttp().getRequest<{ user: AuthenticatedUser }>().user;
});

/** What the guards read of a route's decorators (its handler's, else its class's). */
interface RouteAccess {
  isPublic: boolean;
  /** Shared by every request of the route: frozen. */
  roles: readonly Role[];
}

/**
 * Each route's access as its decorators say, read once per handler and class: decorators are fixed once the
 * app is built, and the guards asked for them three times per request (six metadata look-ups, each walking
 * prototype chains: about 13 µs of a claim's CPU, profiled). By class, then handler: a handler inherited by two
 * controllers is read for each.
 */
const accessByClass = new WeakMap<object, WeakMap<object, RouteAccess>>();

function routeAccessOf(reflector: Reflector, context: ExecutionContext): RouteAccess {
  const handler = context.getHandler();
  const type = context.getClass();
  let byHandler = accessByClass.get(type);
  let access = byHandler?.get(handler);
  if (access) return access;
  const targets = [handler, type];
  access = {
    isPublic: reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets) === true,
    roles: Object.freeze([...(reflector.getAllAndOverride<Role[] | undefined>(REQUIRED_ROLES, targets) ?? [])]),
  };
  if (!byHandler) accessByClass.set(type, (byHandler = new WeakMap()));
  byHandler.set(handler, access);
  return access;
}

/** The roles a route's @Roles() names (empty: any authenticated user, or no decorator at all). */
export function requiredRolesOf(reflector: Reflector, context: ExecutionContext): readonly Role[] {
  return routeAccessOf(reflector, context).roles;
}

export function isPublic(reflector: Reflector, context: ExecutionContext): boolean {
  return routeAccessOf(reflector, context).isPublic;
}

interface GuardedRequest {
  headers: Record<string, unknown>;
  raw?: { socket?: object | null; rawHeaders?: readonly string[] };
  user?: AuthenticatedUser;
}

/**
 * The access token of every request (not @Public()) is verified by the Passport strategy, once: a token
 * verified completely before is answered from the app's VerifiedTokenCache until it expires (at most a
 * minute), so a player's burst of requests costs one RSA verification. What the token is allowed is still
 * judged on every request (RolesGuard, and the staff checks against the user's current access version).
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard(JWT_STRATEGY) {
  constructor(
    private readonly reflector: Reflector,
    @Inject(VerifiedTokenCache) private readonly tokens: VerifiedTokenCache,
  ) {
    super();
  }

  override canActivate(context: ExecutionContext): ReturnType<ReturnType<typeof AuthGuard>['prototype']['canActivate']> {
    if (isPublic(this.reflector, context)) return true;
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    if (authorizationRepeated(request.raw)) throw new DomainError(401, CommonErrorCode.UNAUTHORIZED, REPEATED_AUTHORIZATION);
    const authorization = request.headers.authorization;
    const known = this.tokens.getByHeader(authorization, request.raw?.socket ?? undefined);
    if (known) {
      request.user = known;
      return true;
    }
    // Verified by Passport (which sets request.user, or throws through handleRequest), then remembered.
    return (super.canActivate(context) as Promise<boolean>).then((allowed) => {
      if (allowed && request.user) this.tokens.rememberByHeader(authorization, request.user);
      return allowed;
    });
  }

  override handleRequest<TUser = AuthenticatedUser>(error: unknown, user: TUser | false, info: unknown): TUser {
    if (isKeysUnavailable(error ?? info)) throw signingKeysUnavailable(describeFailure(error ?? info));
    if (error || !user) throw new DomainError(401, CommonErrorCode.UNAUTHORIZED, describeFailure(error ?? info));
    return user;
  }
}

/**
 * A judgement of the caller against current state, made after the token and the roles on every route that has
 * a caller (the event server's: a staff token older than the user's newest access version). An app provides it
 * under this token from a global module; RolesGuard makes it last. A guard rather than a global interceptor:
 * one interceptor put every request of the app through Nest's RxJS pipeline (about 55 µs of CPU per claim,
 * profiled), a guard's promise only the requests that read something.
 */
export const CURRENT_ACCESS_CHECK = Symbol('current access check');

export interface CurrentAccessCheck {
  /** Throws (a DomainError) when the caller may not act with this token any more; a promise when it has to read. */
  check(user: AuthenticatedUser): void | Promise<void>;
}

/** Made by JwtAuthModule (a factory provider: the app's CURRENT_ACCESS_CHECK, required or not). */
export class RolesGuard {
  constructor(
    private readonly reflector: Reflector,
    private readonly current?: CurrentAccessCheck,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const { isPublic, roles: required } = routeAccessOf(this.reflector, context);
    if (isPublic) return true;
    const user = context.switchToHttp().getRequest<{ user?: AuthenticatedUser }>().user;
    if (!user) throw new DomainError(401, CommonErrorCode.UNAUTHORIZED, 'Missing or invalid bearer token');
    if (!hasRequiredRole(user.roles, required)) {
      throw new DomainError(403, CommonErrorCode.FORBIDDEN, requiresRolesMessage(required));
    }
    const judged = this.current?.check(user);
    return judged ? judged.then(() => true) : true;
  }
}
