import { type Role, Role as Roles } from '@reward/server-kit/roles';

const STAFF_ROLES: readonly Role[] = [Roles.OPERATOR, Roles.AUDITOR, Roles.ADMIN];

/**
 * A token that claims staff privileges. Every request made with one is checked, whatever the route: staff
 * routes (`@Roles`) and the routes whose services widen what staff may see (another user's claim, a dry run
 * of someone's progress) alike. A player's token is never checked, so the claim path pays nothing.
 */
export function claimsStaffRole(roles: readonly Role[]): boolean {
  return roles.some((role) => STAFF_ROLES.includes(role));
}

/** A token older than the newest access version the auth server reported may not act as staff. */
export function isStale(tokenVersion: number | undefined, latestKnown: number): boolean {
  return (tokenVersion ?? 0) < latestKnown;
}
