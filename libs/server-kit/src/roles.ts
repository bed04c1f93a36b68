/** Role names and the access-token claims, which every server shares (as it shares errors and the audit action names). */
export const Role = {
  USER: 'USER',
  OPERATOR: 'OPERATOR',
  AUDITOR: 'AUDITOR',
  ADMIN: 'ADMIN',
} as const;
export type Role = (typeof Role)[keyof typeof Role];
export const ROLES: readonly Role[] = Object.values(Role);

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Who made the request, as proven by a verified access token. */
export interface AuthenticatedUser {
  id: string;
  roles: Role[];
  /**
   * The user's access version when the token was issued (claim `av`; 0 when absent). The auth server bumps
   * it at every role change and "log out everywhere"; a server that knows a newer one refuses staff writes.
   */
  accessVersion?: number;
}

/** The access token claim that carries AuthenticatedUser.accessVersion. */
export const ACCESS_VERSION_CLAIM = 'av';

/**
 * The one role rule: ADMIN may do everything; otherwise the caller needs one of the listed roles.
 * An empty list means "any authenticated user".
 */
export function hasRequiredRole(userRoles: readonly Role[], required: readonly Role[]): boolean {
  if (required.length === 0) return true;
  if (userRoles.includes(Role.ADMIN)) return true;
  return required.some((role) => userRoles.includes(role));
}

/** The 403 message for a route that `required` roles may call: ADMIN may call every route, so it is named too. */
export function requiresRolesMessage(required: readonly Role[]): string {
  const allowed = required.includes(Role.ADMIN) ? required : [...required, Role.ADMIN];
  return `Requires one of the roles: ${allowed.join(', ')}`;
}

export const ACCESS_TOKEN_ALGORITHM = 'RS256';
