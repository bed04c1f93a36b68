import { type Role, Role as Roles } from '@reward/server-kit/roles';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A staff write: a method that changes something on a route only staff may call (its @Roles names roles and
 * not USER). Events, rewards, activity imports and review decisions are; a player's claim is not.
 */
export function isStaffWrite(method: string, requiredRoles: readonly Role[]): boolean {
  return !SAFE_METHODS.has(method.toUpperCase()) && requiredRoles.length > 0 && !requiredRoles.includes(Roles.USER);
}

/** A token older than the newest access version the auth server reported may not make a staff write. */
export function isStale(tokenVersion: number | undefined, latestKnown: number): boolean {
  return (tokenVersion ?? 0) < latestKnown;
}
