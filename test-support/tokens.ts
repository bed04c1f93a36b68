import {
  type KeyObject,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
} from 'node:crypto';
import jwt from 'jsonwebtoken';

/** What the auth server puts in `iss` and `aud` by default (tests of one server may choose their own). */
export const TOKEN_ISSUER = 'reward-platform-auth';
export const TOKEN_AUDIENCE = 'reward-platform';
/** The subject of a token whose test does not care who it is (a valid ObjectId). */
export const ANY_SUBJECT = '64b7f0c2a1b2c3d4e5f60718';

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A fresh RSA private key in PKCS#8 PEM, the form JWT_PRIVATE_KEY takes. */
export function rsaPrivateKeyPem(modulusLength = 2048): string {
  return generateKeyPairSync('rsa', { modulusLength }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The RFC 7638 thumbprint of an RSA key: the kid the auth server publishes its key under. */
function thumbprint(publicKey: KeyObject): string {
  const { e, n } = publicKey.export({ format: 'jwk' });
  return createHash('sha256')
    .update(JSON.stringify({ e, kty: 'RSA', n }))
    .digest('base64url');
}

export interface TokenClaims {
  /** Defaults to ANY_SUBJECT. */
  sub?: string;
  roles: readonly string[];
  /** Anything else the payload should carry. */
  [claim: string]: unknown;
}

export interface SignOptions {
  issuer?: string;
  audience?: string;
  /** Negative for a token that has already expired; `null` for one without `exp`. Default 900. */
  expiresInSeconds?: number | null;
  kid?: string;
  key?: KeyObject;
}

/**
 * The one token forge of the tests: an RSA key like the auth server's and its JWKS, tokens signed with it
 * the way the auth server signs them, and the forgeries every verifier must refuse (expired, `alg: none`,
 * HS256 with the public key as the secret, an unknown kid, another key under our kid, a tampered payload).
 */
export class TokenForge {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly issuer: string;
  readonly audience: string;

  // No parameter properties: plain scripts (the bench) import this file with Node's type stripping.
  private constructor(privateKey: KeyObject, options: { issuer?: string; audience?: string }) {
    this.privateKey = privateKey;
    this.publicKey = createPublicKey(privateKey);
    this.kid = thumbprint(this.publicKey);
    this.issuer = options.issuer ?? TOKEN_ISSUER;
    this.audience = options.audience ?? TOKEN_AUDIENCE;
  }

  /** A forge with a key of its own (for a verifier that is told this forge's issuer and audience). */
  static generate(options: { issuer?: string; audience?: string } = {}): TokenForge {
    return new TokenForge(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, options);
  }

  /** A forge holding a real server's key (the PEM it was configured with). */
  static fromPrivateKey(privateKeyPem: string, options: { issuer?: string; audience?: string } = {}): TokenForge {
    return new TokenForge(createPrivateKey(privateKeyPem), options);
  }

  get privateKeyPem(): string {
    return this.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }

  get publicKeyPem(): string {
    return this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** The JWKS the auth server would publish for this key. */
  get jwks(): { keys: Array<Record<string, unknown>> } {
    return { keys: [{ ...this.publicKey.export({ format: 'jwk' }), kid: this.kid, alg: 'RS256', use: 'sig' }] };
  }

  /** A valid token (RS256, our kid, iss, aud, 15 min) unless the options make it otherwise. */
  sign(claims: TokenClaims, options: SignOptions = {}): string {
    const { sub, ...rest } = claims;
    const expiresIn = options.expiresInSeconds === undefined ? 900 : options.expiresInSeconds;
    return jwt.sign(rest, options.key ?? this.privateKey, {
      algorithm: 'RS256',
      keyid: options.kid ?? this.kid,
      subject: sub ?? ANY_SUBJECT,
      issuer: options.issuer ?? this.issuer,
      audience: options.audience ?? this.audience,
      ...(expiresIn !== null && { expiresIn }),
    });
  }

  /** Signed correctly, but it expired a minute ago (issued an hour ago). */
  expired(claims: TokenClaims): string {
    return this.sign({ ...claims, iat: Math.floor(Date.now() / 1000) - 3600 }, { expiresInSeconds: 3540 });
  }

  /** `alg: none` under our kid, no signature. */
  unsigned(claims: TokenClaims): string {
    return `${this.header('none')}.${this.payload(claims)}.`;
  }

  /** The classic algorithm confusion: HS256 with the public key (PEM, as published) as the HMAC secret. */
  hmacWithPublicKey(claims: TokenClaims): string {
    const data = `${this.header('HS256')}.${this.payload(claims)}`;
    return `${data}.${createHmac('sha256', this.publicKeyPem).update(data).digest('base64url')}`;
  }

  /** Signed by a key nobody published, under a kid nobody published. */
  unknownKid(claims: TokenClaims): string {
    return this.sign(claims, { key: TokenForge.generate().privateKey, kid: 'not-a-published-kid' });
  }

  /** Signed by another key under our kid. */
  wrongKeySameKid(claims: TokenClaims): string {
    return this.sign(claims, { key: TokenForge.generate().privateKey });
  }

  /** RS256 over the same header and payload as the forgeries, by hand: proves they differ only where they claim to. */
  handSigned(claims: TokenClaims): string {
    const data = `${this.header('RS256')}.${this.payload(claims)}`;
    return `${data}.${sign('sha256', Buffer.from(data), this.privateKey).toString('base64url')}`;
  }

  /** A token whose payload was changed after signing (roles raised, say), signature kept. */
  static tampered(token: string, change: Record<string, unknown>): string {
    const [header, payload, signature] = token.split('.');
    const claims = { ...JSON.parse(Buffer.from(payload as string, 'base64url').toString()), ...change };
    return `${header}.${b64(claims)}.${signature}`;
  }

  private header(alg: string): string {
    return b64({ alg, typ: 'JWT', kid: this.kid });
  }

  private payload(claims: TokenClaims): string {
    const now = Math.floor(Date.now() / 1000);
    const { sub, ...rest } = claims;
    return b64({ ...rest, sub: sub ?? ANY_SUBJECT, iss: this.issuer, aud: this.audience, iat: now, exp: now + 900 });
  }
}
