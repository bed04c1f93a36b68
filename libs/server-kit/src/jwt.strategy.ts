import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import {
  type AccessTokenPolicy,
  ExpiredTokenError,
  InvalidTokenError,
  SigningKeysUnavailableError,
  userFromClaims,
  verifiedClaimsOf,
} from './access-token.js';
import type { AuthenticatedUser } from './roles.js';
import { bearerTokenOf } from './verified-token-cache.js';

export const ACCESS_TOKEN_POLICY = Symbol('ACCESS_TOKEN_POLICY');

export const JWT_STRATEGY = 'jwt';

/**
 * A request's access token: the token of its `Authorization: Bearer <token>` header (bearerTokenOf). A Bearer
 * header written any other way (text after the token, a tab, two spaces) is handed on whole, to be refused as
 * an invalid token: passport-jwt's own extractor took the first word after `Bearer` and ignored the rest. No
 * header, or another scheme: no token ("Missing bearer token").
 */
export function accessTokenOf(request: { headers?: Record<string, unknown> }): string | null {
  const header = request.headers?.authorization;
  if (typeof header !== 'string' || !/^bearer[ \t]/i.test(header)) return null;
  return bearerTokenOf(header) ?? header;
}

/** What a request with two Authorization headers is told (the gateway's and every server's 401). */
export const REPEATED_AUTHORIZATION = 'Authorization must be given once (one header, one token)';

/**
 * Whether a request carries the Authorization header more than once. Node keeps the first in `headers` and drops
 * the others without a word, so which token counted depended on the order of the lines, and a proxy in front that
 * reads the last one (or adds its own) would have judged another caller than we did: neither is read.
 */
export function authorizationRepeated(request: { rawHeaders?: readonly string[] } | undefined): boolean {
  const raw = request?.rawHeaders;
  if (!raw) return false;
  let seen = 0;
  for (let index = 0; index < raw.length; index += 2) {
    if (raw[index]?.toLowerCase() === 'authorization' && ++seen > 1) return true;
  }
  return false;
}

/** No `Authorization: Bearer` header at all (or another scheme). */
class MissingTokenError extends Error {
  override name = 'MissingTokenError';
}

/** What Passport gives each authentication attempt of a strategy (passport.authenticate). */
interface StrategyAttempt {
  success(user: unknown, info?: unknown): void;
  fail(challenge?: unknown): void;
  error(error: unknown): void;
}

type VerifiedCallback = (error: unknown, user?: unknown, info?: unknown) => void;

/**
 * A Passport strategy of bearer access tokens: the token of the request (accessTokenOf), verified completely
 * (verifiedClaimsOf), its claims handed to `verify` (the Nest strategy's `validate`). It answers Passport as
 * passport-jwt did, which it replaced for its verification's CPU (verifiedClaimsOf): no token, or one refused,
 * fails with the reason as the challenge; an error of `verify` is an error.
 */
export class AccessTokenStrategy {
  readonly name = JWT_STRATEGY;

  constructor(
    private readonly policy: AccessTokenPolicy,
    private readonly verify: (claims: Record<string, unknown>, done: VerifiedCallback) => void,
  ) {}

  authenticate(this: AccessTokenStrategy & StrategyAttempt, request: { headers?: Record<string, unknown> }): void {
    const token = accessTokenOf(request);
    if (token === null) {
      this.fail(new MissingTokenError());
      return;
    }
    verifiedClaimsOf(token, this.policy).then(
      (claims) =>
        this.verify(claims, (error, user, info) => {
          if (error) this.error(error);
          else if (!user) this.fail(info);
          else this.success(user, info);
        }),
      (refusal: unknown) => this.fail(refusal),
    );
  }
}

/**
 * The one Passport strategy for access tokens, in every server and the gateway: RS256 only, the key
 * picked by `kid` from the auth server's published keys, `iss`, `aud` and `exp` checked (verifiedClaimsOf).
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(AccessTokenStrategy, JWT_STRATEGY) {
  constructor(@Inject(ACCESS_TOKEN_POLICY) policy: AccessTokenPolicy) {
    super(policy);
  }

  validate(claims: unknown): AuthenticatedUser {
    return userFromClaims(claims);
  }
}

export type AuthenticationResult = { user: AuthenticatedUser } | { user: undefined; reason: string; keysUnavailable: boolean };

/**
 * Runs the registered Passport strategy on a raw request, for code outside Nest's guard pipeline
 * (the gateway's proxy routes are plain Fastify routes).
 */
export function authenticateWithPassport(request: object): Promise<AuthenticationResult> {
  return new Promise((resolve) => {
    const handler = passport.authenticate(
      JWT_STRATEGY,
      { session: false },
      (error: unknown, user: AuthenticatedUser | false, info: unknown) => {
        if (error || !user)
          resolve({ user: undefined, reason: describeFailure(error ?? info), keysUnavailable: isKeysUnavailable(error ?? info) });
        else resolve({ user });
      },
    ) as (req: object, res: object, next: (error?: unknown) => void) => void;
    handler(request, {}, (error) =>
      resolve({ user: undefined, reason: describeFailure(error), keysUnavailable: isKeysUnavailable(error) }),
    );
  });
}

export function isKeysUnavailable(info: unknown): boolean {
  return info instanceof SigningKeysUnavailableError;
}

/**
 * What a client is told about a request the strategy refused: the verifier's own reason (it names what failed,
 * never what was expected), and nothing of any other error's text, which is no client's business.
 */
export function describeFailure(info: unknown): string {
  if (info instanceof SigningKeysUnavailableError) return info.message;
  if (info instanceof ExpiredTokenError) return 'Access token has expired';
  if (info instanceof InvalidTokenError) return `Invalid access token: ${info.message}`;
  if (info instanceof MissingTokenError) return 'Missing bearer token';
  return 'Missing or invalid bearer token';
}
