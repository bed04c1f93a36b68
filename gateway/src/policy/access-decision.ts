import { CommonErrorCode, type ErrorBody, errorBody } from '@reward/server-kit/errors';
import {
  type AuthenticationResult,
  REPEATED_AUTHORIZATION,
  authenticateWithPassport,
  authorizationRepeated,
} from '@reward/server-kit/jwt.strategy';
import { type AuthenticatedUser, hasRequiredRole, requiresRolesMessage } from '@reward/server-kit/roles';
import type { VerifiedTokenCache } from '@reward/server-kit/verified-token-cache';
import type { RoutePolicy } from './route-policy.js';
import { type RouteTable, pathOfUrl } from './route-table.js';

export const PathErrorCode = {
  /** The path spells a letter, digit or `-._~` percent-encoded (see RouteTable.resolve). */
  ENCODED_UNRESERVED_CHARACTER: 'ENCODED_UNRESERVED_CHARACTER',
} as const;

export type AccessDecision =
  | { allowed: true; policy: RoutePolicy; user: AuthenticatedUser | undefined }
  | { allowed: false; status: number; body: ErrorBody; headers: Record<string, string> };

function refused(
  status: number,
  code: string,
  message: string,
  { headers = {}, retryAfterSeconds }: { headers?: Record<string, string>; retryAfterSeconds?: number } = {},
): AccessDecision {
  // A wait is said twice, as every server says it: the header, and `retryAfterSeconds` in the body (a client
  // whose HTTP library hides the headers still learns it).
  if (retryAfterSeconds === undefined) return { allowed: false, status, body: errorBody(status, code, message), headers };
  return {
    allowed: false,
    status,
    body: errorBody(status, code, message, { retryAfterSeconds }),
    headers: { ...headers, 'retry-after': String(retryAfterSeconds) },
  };
}

function shown(url: string): string {
  const path = pathOfUrl(url);
  return path.length > 200 ? `${path.slice(0, 200)}...` : path;
}

/** The answer for a request that no line of the table names. */
export function routeNotFound(method: string, url: string): Extract<AccessDecision, { allowed: false }> {
  return {
    allowed: false,
    status: 404,
    body: errorBody(404, CommonErrorCode.ROUTE_NOT_FOUND, `No route ${method} ${shown(url)}`),
    headers: {},
  };
}

/** The route step alone: unknown path -> 404, known path with another method -> 405 with `Allow`. */
export function decideRoute(table: RouteTable, method: string, url: string): AccessDecision {
  const resolution = table.resolve(method, url);
  if (resolution.kind === 'not-found') return routeNotFound(method, url);
  if (resolution.kind === 'encoded-unreserved') {
    return refused(
      400,
      PathErrorCode.ENCODED_UNRESERVED_CHARACTER,
      'The path must not percent-encode letters, digits or "-._~"; send them as they are',
    );
  }
  if (resolution.kind === 'method-not-allowed') {
    return refused(405, CommonErrorCode.METHOD_NOT_ALLOWED, `${method} is not allowed on ${shown(url)}`, {
      headers: { allow: resolution.allowed.join(', ') },
    });
  }
  return { allowed: true, policy: resolution.policy, user: undefined };
}

/** The route decision, then what the caller is allowed: 401 without a valid token, 403 without a role. */
function judged(route: Extract<AccessDecision, { allowed: true }>, authentication: AuthenticationResult): AccessDecision {
  if (!authentication.user) {
    // Without the auth server's keys a token cannot be judged either way: unavailable, not unauthorized.
    if (authentication.keysUnavailable)
      return refused(503, CommonErrorCode.UPSTREAM_UNAVAILABLE, authentication.reason, { retryAfterSeconds: 5 });
    return refused(401, CommonErrorCode.UNAUTHORIZED, authentication.reason);
  }
  const required = route.policy.access;
  if (required !== 'public' && !hasRequiredRole(authentication.user.roles, required)) {
    return refused(403, CommonErrorCode.FORBIDDEN, requiresRolesMessage(required));
  }
  return { allowed: true, policy: route.policy, user: authentication.user };
}

/**
 * The access step for a request whose route was decided already (`decideRoute`): a public route is
 * allowed as it is; otherwise the access token is checked by the same Passport strategy the servers'
 * guards use (401), then the roles (403). With a cache, a token already verified completely is not
 * verified again until it expires, and the answer is given at once rather than as a promise (the proxy
 * asks for every request).
 */
export function authorize(
  route: AccessDecision,
  rawRequest: { headers?: Record<string, unknown>; socket?: object | null; rawHeaders?: readonly string[] },
  tokens?: VerifiedTokenCache,
): AccessDecision | Promise<AccessDecision> {
  if (!route.allowed || route.policy.access === 'public') return route;
  if (authorizationRepeated(rawRequest)) return refused(401, CommonErrorCode.UNAUTHORIZED, REPEATED_AUTHORIZATION);
  const authorization = rawRequest.headers?.authorization;
  const known = tokens?.getByHeader(authorization, rawRequest.socket ?? undefined);
  if (known) return judged(route, { user: known });
  return authenticateWithPassport(rawRequest).then((authentication) => {
    if (authentication.user) tokens?.rememberByHeader(authorization, authentication.user);
    return judged(route, authentication);
  });
}

/** The whole policy for one request, as the table says: the route (`decideRoute`), then `authorize`. */
export async function decideAccess(
  table: RouteTable,
  method: string,
  url: string,
  rawRequest: { headers?: Record<string, unknown> },
  tokens?: VerifiedTokenCache,
): Promise<AccessDecision> {
  return authorize(decideRoute(table, method, url), rawRequest, tokens);
}
