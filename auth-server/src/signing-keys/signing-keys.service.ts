import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import type { KeyResolver } from '@reward/server-kit/access-token';
import type { AuthConfig } from '../config/auth-config.js';
import { AUTH_CONFIG } from '../config/config.module.js';
import { REFRESH_RETRY_SECRET_ID, SigningKeyRepository } from './signing-key.repository.js';
import {
  type PublicJwk,
  type SigningKey,
  type VerificationKey,
  signingKeyFromPem,
  verificationKeyFromPem,
} from './signing-key.js';

const generateRsaKeyPair = promisify(generateKeyPair);

/**
 * Owns the access-token signing key: the configured one, or (outside production) one generated on the
 * first start and kept in the database so a restart or a second replica signs with the same key; and the
 * keys it publishes and accepts: that one, and during a rotation the others of JWT_ADDITIONAL_PUBLIC_KEYS.
 */
@Injectable()
export class SigningKeysService implements OnModuleInit, KeyResolver {
  private readonly logger = new Logger(SigningKeysService.name);
  private current: SigningKey | undefined;
  /** The signing key's first, then the additional ones, by kid (a Map keeps that order for the JWKS). */
  private published = new Map<string, VerificationKey>();
  private retrySecret: Buffer | undefined;

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly repository: SigningKeyRepository,
  ) {}

  async onModuleInit(): Promise<void> {
    this.current = await signingKeyFromPem(this.config.jwt.privateKeyPem ?? (await this.storedOrGeneratedPem()));
    this.logger.log(`signing access tokens with kid ${this.current.kid}`);
    const published = new Map<string, VerificationKey>([[this.current.kid, this.current]]);
    for (const pem of this.config.jwt.additionalPublicKeyPems) {
      const key = await verificationKeyFromPem(pem);
      // The configuration refuses a configured signing key listed again; a generated one is only known here.
      if (published.has(key.kid)) throw new Error(`JWT_ADDITIONAL_PUBLIC_KEYS lists kid ${key.kid} twice or as the signing key`);
      published.set(key.kid, key);
      this.logger.log(`also accepting access tokens signed with kid ${key.kid} (JWT_ADDITIONAL_PUBLIC_KEYS)`);
    }
    this.published = published;
    // Not derived from the signing key: a rotation of JWT_PRIVATE_KEY (replicas with the old and the new key side
    // by side) must not make a retry's successor differ from its first request's, which would read as theft.
    const secret = await this.repository.storedOrInsertSecret(REFRESH_RETRY_SECRET_ID, randomBytes(32).toString('base64url'));
    this.retrySecret = Buffer.from(secret, 'base64url');
  }

  private async storedOrGeneratedPem(): Promise<string> {
    const stored = await this.repository.findCurrent();
    if (stored) return stored.privateKeyPem;
    this.logger.warn('JWT_PRIVATE_KEY is not set: generating a signing key and storing it in the auth database');
    const { privateKey } = await generateRsaKeyPair('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const winner = await this.repository.insertCurrentOrGetExisting({ privateKeyPem: pem, createdAt: new Date() });
    return winner.privateKeyPem;
  }

  signingKey(): SigningKey {
    if (!this.current) throw new Error('signing key is not loaded yet');
    return this.current;
  }

  /** The secret keyed refresh successors are made with (see keyedSuccessorValue): the same on every replica, always. */
  refreshRetrySecret(): Buffer {
    if (!this.retrySecret) throw new Error('refresh retry secret is not loaded yet');
    return this.retrySecret;
  }

  /** The signing key's first: a client that takes the first key finds the one new tokens are signed with. */
  publicJwks(): { keys: PublicJwk[] } {
    return { keys: [...this.publishedKeys().values()].map((key) => key.jwk) };
  }

  /** The server verifies its own tokens from memory, by the keys it publishes: no HTTP round trip to its own JWKS. */
  async getKey(kid: string): Promise<KeyObject | undefined> {
    return this.publishedKeys().get(kid)?.publicKey;
  }

  private publishedKeys(): Map<string, VerificationKey> {
    if (!this.current) throw new Error('signing key is not loaded yet');
    return this.published;
  }
}
