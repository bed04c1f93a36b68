import { createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Role } from '@reward/server-kit/roles';

export const TEST_ISSUER = 'test-issuer';
export const TEST_AUDIENCE = 'test-audience';

function base64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** An RSA signing key like the auth server's, its JWKS, and tokens both genuine and forged. */
export class FakeSigner {
  readonly kid = 'test-key-1';
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;

  constructor() {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
  }

  get jwks(): { keys: Array<Record<string, unknown>> } {
    return { keys: [{ ...this.publicKey.export({ format: 'jwk' }), kid: this.kid, alg: 'RS256', use: 'sig' }] };
  }

  /** A genuine access token (RS256, kid, iss, aud, 15 min), with claims or options overridden as asked. */
  token(
    roles: Role[],
    /** `expiresIn: null` signs a token without `exp`. */
    options: { sub?: string; issuer?: string; audience?: string; expiresIn?: number | null; kid?: string; key?: KeyObject } = {},
  ): string {
    return jwt.sign({ roles }, options.key ?? this.privateKey, {
      algorithm: 'RS256',
      keyid: options.kid ?? this.kid,
      subject: options.sub ?? '64b7f0c2a1b2c3d4e5f60718',
      issuer: options.issuer ?? TEST_ISSUER,
      audience: options.audience ?? TEST_AUDIENCE,
      ...(options.expiresIn !== null && { expiresIn: options.expiresIn ?? 900 }),
    });
  }

  private claims(roles: Role[]): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    return { sub: '64b7f0c2a1b2c3d4e5f60718', roles, iss: TEST_ISSUER, aud: TEST_AUDIENCE, iat: now, exp: now + 900 };
  }

  /** `alg: none`, no signature. */
  unsignedToken(roles: Role[]): string {
    return `${base64url({ alg: 'none', typ: 'JWT', kid: this.kid })}.${base64url(this.claims(roles))}.`;
  }

  /** HS256 "signed" with the public key as the HMAC secret: the classic algorithm-confusion forgery. */
  hmacWithPublicKeyToken(roles: Role[]): string {
    const data = `${base64url({ alg: 'HS256', typ: 'JWT', kid: this.kid })}.${base64url(this.claims(roles))}`;
    const secret = this.publicKey.export({ type: 'spki', format: 'pem' });
    return `${data}.${createHmac('sha256', secret).update(data).digest('base64url')}`;
  }

  /** A genuine token whose payload was changed afterwards (roles raised to ADMIN). */
  tamperedToken(roles: Role[]): string {
    const [header, , signature] = this.token(roles).split('.');
    return `${header}.${base64url({ ...this.claims(roles), roles: ['ADMIN'] })}.${signature}`;
  }

  /** RS256 over the right claims, by hand (to prove the forgeries above differ only where they claim to). */
  rawRs256(roles: Role[]): string {
    const data = `${base64url({ alg: 'RS256', typ: 'JWT', kid: this.kid })}.${base64url(this.claims(roles))}`;
    return `${data}.${sign('sha256', Buffer.from(data), this.privateKey).toString('base64url')}`;
  }
}
