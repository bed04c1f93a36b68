import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import {
  type AccessTokenPolicy,
  InvalidTokenError,
  SigningKeysUnavailableError,
  verifyAccessToken,
} from '@reward/server-kit/access-token';
import { signingKeysUnavailable } from '@reward/server-kit/auth.guards';
import { CommonErrorCode, DomainError } from '@reward/server-kit/errors';
import { ACCESS_TOKEN_POLICY } from '@reward/server-kit/jwt.strategy';
import type { EventConfig } from '../config/event-config.js';
import { EVENT_CONFIG } from '../config/config.module.js';

/** The services allowed to call the internal (server-to-server) routes. */
export const INTERNAL_CALLERS = ['auth-server'] as const;

/**
 * Admits server-to-server calls: a token signed by the auth server's key (same JWKS, RS256, iss, exp) for
 * the service audience, whose subject is a known service. A player's access token (user audience) is
 * refused here, and a service token is refused everywhere else.
 */
@Injectable()
export class ServiceTokenGuard implements CanActivate {
  constructor(
    @Inject(ACCESS_TOKEN_POLICY) private readonly policy: AccessTokenPolicy,
    @Inject(EVENT_CONFIG) private readonly config: EventConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; service?: string }>();
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
    if (!token) throw new DomainError(401, CommonErrorCode.UNAUTHORIZED, 'Missing service token');
    let subject: string;
    try {
      subject = (await verifyAccessToken(token, { ...this.policy, audience: this.config.jwt.serviceAudience })).id;
    } catch (error) {
      // As for a player's token (the auth server's outbox retries it either way, but its log then says why).
      if (error instanceof SigningKeysUnavailableError) throw signingKeysUnavailable(error.message);
      // The verifier's own reasons only: any other error's text is no caller's business.
      const reason = error instanceof InvalidTokenError ? error.message : 'unreadable';
      throw new DomainError(401, CommonErrorCode.UNAUTHORIZED, `Invalid service token: ${reason}`);
    }
    if (!(INTERNAL_CALLERS as readonly string[]).includes(subject)) {
      throw new DomainError(403, CommonErrorCode.FORBIDDEN, `${subject} may not call internal routes`);
    }
    request.service = subject;
    return true;
  }
}
