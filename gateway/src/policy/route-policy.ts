import { Role } from '@reward/server-kit/roles';
import { SWAGGER_UI_FILES } from '../docs/swagger-ui-assets.js';

/** Who serves a route: one of the upstream servers, or the gateway's own Nest controllers. */
export type Upstream = 'auth' | 'event';
export type RouteOwner = Upstream | 'gateway';

export type PolicyMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** `'public'`: no token needed. A list of roles: a valid token with one of them (ADMIN always may); `[]`: any valid token. */
export type Access = 'public' | readonly Role[];

export interface RoutePolicy {
  method: PolicyMethod;
  /** Exact segments and `:param` segments, e.g. `/users/:id/roles`; a trailing slash only as its own line (`/docs/`). */
  path: string;
  access: Access;
  upstream: RouteOwner;
  /**
   * The upstream honours an `Idempotency-Key` on this route: the same key from the same caller is one
   * request, however often it is sent (a claim's second send is answered with the first's recorded outcome,
   * or 409 IDEMPOTENCY_IN_PROGRESS while it has none; a refresh's with the same new refresh token). So a
   * request carrying one may be sent to another replica when the first dropped the connection without
   * answering (see ReplicaPool).
   */
  idempotencyKey?: true;
  /**
   * The upstream answers the same request from the same caller, sent again, as it answered the first, with no
   * second effect, without a key: a reviewer's approve, reject or revoke (the same decision again is answered
   * 200 with the claim as that decision left it, and a decision is recorded once, by a unique insert). So it
   * too may be sent to another replica when the first dropped the connection without answering (a replica
   * killed in the middle of a review), rather than answered 502 and left to the reviewer to send again.
   */
  repeatable?: true;
}

const ANY_USER: readonly Role[] = [];

/**
 * Every route the gateway answers, and who may call it. Nothing else is served or proxied (deny by
 * default): a request that matches no line here gets 404 ROUTE_NOT_FOUND and never reaches an upstream.
 * A GET line also allows HEAD with the same access.
 */
export const ROUTE_POLICIES: readonly RoutePolicy[] = [
  // --- the gateway's own routes (Nest controllers in this package, never proxied) -----------------
  { method: 'GET', path: '/health', access: 'public', upstream: 'gateway' },
  { method: 'GET', path: '/openapi.json', access: 'public', upstream: 'gateway' },
  // Swagger UI: its page and its files (not API operations, so not in the OpenAPI document).
  { method: 'GET', path: '/docs', access: 'public', upstream: 'gateway' },
  // The same page: a browser or a reader may well add the slash.
  { method: 'GET', path: '/docs/', access: 'public', upstream: 'gateway' },
  ...SWAGGER_UI_FILES.map((name): RoutePolicy => ({
    method: 'GET',
    path: `/docs/${name}`,
    access: 'public',
    upstream: 'gateway',
  })),

  // --- auth server ---------------------------------------------------------------------------------
  { method: 'POST', path: '/auth/register', access: 'public', upstream: 'auth' },
  { method: 'POST', path: '/auth/login', access: 'public', upstream: 'auth' },
  { method: 'POST', path: '/auth/refresh', access: 'public', upstream: 'auth', idempotencyKey: true },
  { method: 'POST', path: '/auth/logout', access: ANY_USER, upstream: 'auth' },
  { method: 'GET', path: '/users/me', access: ANY_USER, upstream: 'auth' },
  { method: 'POST', path: '/users/me/password', access: ANY_USER, upstream: 'auth' },
  { method: 'GET', path: '/users', access: [Role.ADMIN], upstream: 'auth' },
  { method: 'PATCH', path: '/users/:id/roles', access: [Role.ADMIN], upstream: 'auth' },
  // The user themselves or an ADMIN: the auth server decides on the caller's current roles.
  { method: 'POST', path: '/users/:id/logout-all', access: ANY_USER, upstream: 'auth' },
  { method: 'GET', path: '/.well-known/jwks.json', access: 'public', upstream: 'auth' },

  // --- event server: events and rewards -------------------------------------------------------------
  { method: 'POST', path: '/events', access: [Role.OPERATOR], upstream: 'event' },
  { method: 'GET', path: '/events', access: ANY_USER, upstream: 'event' },
  { method: 'GET', path: '/events/:id', access: ANY_USER, upstream: 'event' },
  { method: 'PATCH', path: '/events/:id', access: [Role.OPERATOR], upstream: 'event' },
  { method: 'POST', path: '/events/:id/rewards', access: [Role.OPERATOR], upstream: 'event' },
  { method: 'PATCH', path: '/events/:id/rewards/:rewardId', access: [Role.OPERATOR], upstream: 'event' },
  { method: 'GET', path: '/events/:id/rewards', access: ANY_USER, upstream: 'event' },
  // Any role for oneself; ?userId of someone else is checked by the event server (OPERATOR/ADMIN only).
  { method: 'GET', path: '/events/:id/progress', access: ANY_USER, upstream: 'event' },

  // --- event server: claims -------------------------------------------------------------------------
  { method: 'POST', path: '/events/:id/claims', access: [Role.USER], upstream: 'event', idempotencyKey: true },
  { method: 'GET', path: '/claims/me', access: ANY_USER, upstream: 'event' },
  { method: 'GET', path: '/claims/export', access: [Role.OPERATOR, Role.AUDITOR], upstream: 'event' },
  { method: 'GET', path: '/claims', access: [Role.OPERATOR, Role.AUDITOR], upstream: 'event' },
  // The owner or staff; the event server answers 404 for another user's claim.
  { method: 'GET', path: '/claims/:id', access: ANY_USER, upstream: 'event' },
  { method: 'POST', path: '/claims/:id/approve', access: [Role.OPERATOR], upstream: 'event', repeatable: true },
  { method: 'POST', path: '/claims/:id/reject', access: [Role.OPERATOR], upstream: 'event', repeatable: true },
  { method: 'POST', path: '/claims/:id/revoke', access: [Role.OPERATOR], upstream: 'event', repeatable: true },

  // --- event server: activities and audit log ------------------------------------------------------
  { method: 'POST', path: '/activities', access: [Role.OPERATOR], upstream: 'event' },
  { method: 'GET', path: '/activities', access: [Role.OPERATOR, Role.AUDITOR], upstream: 'event' },
  { method: 'GET', path: '/audit-logs', access: [Role.AUDITOR], upstream: 'event' },

  // --- event server: payout (webhook endpoints and their deliveries) --------------------------------
  { method: 'POST', path: '/webhook-endpoints', access: [Role.ADMIN], upstream: 'event' },
  { method: 'GET', path: '/webhook-endpoints', access: [Role.ADMIN], upstream: 'event' },
  { method: 'GET', path: '/webhook-endpoints/:id', access: [Role.ADMIN], upstream: 'event' },
  { method: 'PATCH', path: '/webhook-endpoints/:id', access: [Role.ADMIN], upstream: 'event' },
  { method: 'DELETE', path: '/webhook-endpoints/:id', access: [Role.ADMIN], upstream: 'event' },
  { method: 'POST', path: '/webhook-endpoints/:id/rotate-secret', access: [Role.ADMIN], upstream: 'event' },
  { method: 'POST', path: '/webhook-endpoints/:id/send-pending', access: [Role.OPERATOR], upstream: 'event' },
  { method: 'POST', path: '/webhook-endpoints/:id/retry-failed', access: [Role.OPERATOR], upstream: 'event' },
  { method: 'GET', path: '/deliveries', access: [Role.OPERATOR, Role.AUDITOR], upstream: 'event' },
  { method: 'POST', path: '/deliveries/:id/retry', access: [Role.OPERATOR], upstream: 'event' },
  // /internal/** (server-to-server) is deliberately absent: unreachable from outside.
];

/**
 * Whether a path takes large bodies (up to the 1 MB limit): only when a line that may carry one (any method
 * but GET) is for staff alone (a role list without USER: an activity import, an event's conditions). Every
 * other path takes small ones (16 KB at the gateway, the large-body budget's small size): sign-in, registration and refresh need no
 * token, and any player can have a token for free, so neither may send a body large enough to count against
 * the memory set aside for large bodies (limitBodiesInFlight).
 */
export function takesLargeBodies(path: string, policies: readonly RoutePolicy[] = ROUTE_POLICIES): boolean {
  return policies.some(
    (policy) =>
      policy.path === path &&
      policy.method !== 'GET' &&
      policy.access !== 'public' &&
      policy.access.length > 0 &&
      !policy.access.includes(Role.USER),
  );
}
