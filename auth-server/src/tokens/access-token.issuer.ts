import { Inject, Injectable } from '@nestjs/common';
import { ACCESS_TOKEN_ALGORITHM, ACCESS_VERSION_CLAIM, type Role } from '@reward/server-kit/roles';
import { SignJWT } from 'jose';
import type { AuthConfig } from '../config/auth-config.js';
import { AUTH_CONFIG } from '../config/config.module.js';
import { SigningKeysService } from '../signing-keys/signing-keys.service.js';

/** Signs access tokens: RS256, `kid` = the key's thumbprint, the claims every server verifies. */
@Injectable()
export class AccessTokenIssuer {
  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly keys: SigningKeysService,
  ) {}

  get ttlSeconds(): number {
    return this.config.jwt.accessTokenTtlSeconds;
  }

  async issue(subject: { id: string; roles: Role[]; accessVersion: number }, now = new Date()): Promise<string> {
    const key = this.keys.signingKey();
    const issuedAt = Math.floor(now.getTime() / 1000);
    return new SignJWT({ roles: subject.roles, [ACCESS_VERSION_CLAIM]: subject.accessVersion })
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALGORITHM, kid: key.kid, typ: 'JWT' })
      .setSubject(subject.id)
      .setIssuer(this.config.jwt.issuer)
      .setAudience(this.config.jwt.audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + this.ttlSeconds)
      .sign(key.privateKey);
  }
}
