import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { Strategy } from 'passport-jwt';
import {
  type AccessTokenPolicy,
  SigningKeysUnavailableError,
  keyForToken,
  publicTokenReason,
  userFromClaims,
} from './access-token.js';
import { ACCESS_TOKEN_ALGORITHM, type AuthenticatedUser } from './roles.js';
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

/**
 * The one Passport strategy for access tokens, in every server and the gateway: RS256 only, the key
 * picked by `kid` from the auth server's published keys, `iss`, `aud` and `exp` checked.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  constructor(@Inject(ACCESS_TOKEN_POLICY) policy: AccessTokenPolicy) {
    super({
      jwtFromRequest: accessTokenOf,
      algorithms: [ACCESS_TOKEN_ALGORITHM],
      issuer: policy.issuer,
      audience: policy.audience,
      ignoreExpiration: false,
      secretOrKeyProvider: (_request: unknown, rawToken: string, done: (error: unknown, key?: string) => void) => {
        keyForToken(rawToken, policy.keys).then(
          // The resolver's KeyObject itself: jsonwebtoken uses a KeyObject as it is, whereas from PEM text
          // (all that passport-jwt's types admit) it parsed a new public key on every verification.
          // algorithms: ['RS256'] keeps a key from being used as an HMAC secret either way.
          (key) => done(null, key as unknown as string),
          (error: unknown) => done(error),
        );
      },
    });
  }

  validate(payload: unknown): AuthenticatedUser {
    return userFromClaims(payload);
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

export function describeFailure(info: unknown): string {
  if (info instanceof SigningKeysUnavailableError) return info.message;
  if (info instanceof Error) {
    if (info.name === 'TokenExpiredError') return 'Access token has expired';
    if (info.message === 'No auth token') return 'Missing bearer token';
    return `Invalid access token: ${publicTokenReason(info.message)}`;
  }
  return 'Missing or invalid bearer token';
}
