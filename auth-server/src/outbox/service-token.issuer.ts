import { Inject, Injectable } from '@nestjs/common';
import { ACCESS_TOKEN_ALGORITHM } from '@reward/server-kit/roles';
import { SignJWT } from 'jose';
import type { AuthConfig } from '../config/auth-config.js';
import { AUTH_CONFIG } from '../config/config.module.js';
import type { SigningKey } from '../signing-keys/signing-key.js';
import { SigningKeysService } from '../signing-keys/signing-keys.service.js';

/** The name the event server's internal routes know this server by. */
export const SERVICE_SUBJECT = 'auth-server';
export const SERVICE_TOKEN_TTL_SECONDS = 300;
/** A token is replaced this long before it expires, so one never dies in flight. */
export const SERVICE_TOKEN_RENEW_BEFORE_SECONDS = 60;

/**
 * Signs the token the relay presents to the event server: the current signing key and `kid` (the one in the
 * JWKS), `sub: auth-server`, no roles, the service audience, 5 minutes. Reused until a minute before expiry.
 */
@Injectable()
export class ServiceTokenIssuer {
  private cached: { token: string; kid: string; renewAt: number } | undefined;

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(SigningKeysService) private readonly keys: Pick<SigningKeysService, 'signingKey'>,
  ) {}

  async token(now = new Date()): Promise<string> {
    const key = this.keys.signingKey();
    if (this.cached && this.cached.kid === key.kid && now.getTime() < this.cached.renewAt) return this.cached.token;
    const token = await this.sign(key, now);
    this.cached = {
      token,
      kid: key.kid,
      renewAt: now.getTime() + (SERVICE_TOKEN_TTL_SECONDS - SERVICE_TOKEN_RENEW_BEFORE_SECONDS) * 1000,
    };
    return token;
  }

  /** After a 401: the next call signs a fresh token. */
  invalidate(): void {
    this.cached = undefined;
  }

  private sign(key: SigningKey, now: Date): Promise<string> {
    const issuedAt = Math.floor(now.getTime() / 1000);
    return new SignJWT({ roles: [] })
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALGORITHM, kid: key.kid, typ: 'JWT' })
      .setSubject(SERVICE_SUBJECT)
      .setIssuer(this.config.jwt.issuer)
      .setAudience(this.config.jwt.serviceAudience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + SERVICE_TOKEN_TTL_SECONDS)
      .sign(key.privateKey);
  }
}
