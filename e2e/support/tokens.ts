import { createHmac, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import jwt from 'jsonwebtoken';

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The header and payload of a token as the auth server issues it, encoded, for a hand-made signature. */
function encodedParts(alg: string, options: ForgeOptions, kid: string): { header: string; payload: string } {
  const now = Math.floor(Date.now() / 1000);
  const header = b64({ alg, typ: 'JWT', kid });
  const payload = b64({
    sub: options.sub,
    roles: options.roles,
    iss: 'reward-platform-auth',
    aud: 'reward-platform',
    iat: now,
    exp: now + 900,
  });
  return { header, payload };
}

export interface ForgeOptions {
  sub: string;
  roles: string[];
  issuer?: string;
  audience?: string;
  expiresInSeconds?: number;
}

/** Tokens an attacker (or a clock) could produce, to prove each one is refused. */
export class TokenForge {
  private constructor(
    private readonly privateKeyPem: string,
    readonly kid: string,
  ) {}

  static async fromPrivateKey(privateKeyPem: string): Promise<TokenForge> {
    const jwk = await exportJWK(createPrivateKey(privateKeyPem));
    const kid = await calculateJwkThumbprint({ kty: 'RSA', n: jwk.n as string, e: jwk.e as string });
    return new TokenForge(privateKeyPem, kid);
  }

  /** Signed with the real key and kid: valid unless the options make it otherwise. */
  sign(options: ForgeOptions, key = this.privateKeyPem, kid = this.kid): string {
    return jwt.sign({ sub: options.sub, roles: options.roles }, key, {
      algorithm: 'RS256',
      keyid: kid,
      issuer: options.issuer ?? 'reward-platform-auth',
      audience: options.audience ?? 'reward-platform',
      expiresIn: options.expiresInSeconds ?? 900,
    });
  }

  expired(options: ForgeOptions): string {
    const now = Math.floor(Date.now() / 1000);
    return jwt.sign({ sub: options.sub, roles: options.roles, iat: now - 3600, exp: now - 60 }, this.privateKeyPem, {
      algorithm: 'RS256',
      keyid: this.kid,
      issuer: 'reward-platform-auth',
      audience: 'reward-platform',
    });
  }

  /** A different key, announced under an unknown kid. */
  unknownKid(options: ForgeOptions): string {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return this.sign(options, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'not-a-published-kid');
  }

  /** A different key under the real kid. */
  wrongKeySameKid(options: ForgeOptions): string {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return this.sign(options, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), this.kid);
  }

  static unsigned(options: ForgeOptions, kid: string): string {
    const { header, payload } = encodedParts('none', options, kid);
    return `${header}.${payload}.`;
  }

  /** The classic confusion attack: HS256 with the public key (as published) used as the HMAC secret. */
  static hmacWithPublicKey(options: ForgeOptions, kid: string, publicKeyPem: string): string {
    const { header, payload } = encodedParts('HS256', options, kid);
    const signature = createHmac('sha256', publicKeyPem).update(`${header}.${payload}`).digest('base64url');
    return `${header}.${payload}.${signature}`;
  }

  /** The payload changed after signing (roles escalated), signature kept. */
  static tampered(token: string, change: Record<string, unknown>): string {
    const [header, payload, signature] = token.split('.');
    const claims = { ...JSON.parse(Buffer.from(payload as string, 'base64url').toString()), ...change };
    return `${header}.${b64(claims)}.${signature}`;
  }
}
