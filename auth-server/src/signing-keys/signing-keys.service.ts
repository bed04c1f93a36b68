import { createHmac, generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import type { KeyResolver } from '@reward/server-kit/access-token';
import type { AuthConfig } from '../config/auth-config.js';
import { AUTH_CONFIG } from '../config/config.module.js';
import { SigningKeyRepository } from './signing-key.repository.js';
import { type PublicJwk, type SigningKey, signingKeyFromPem } from './signing-key.js';

const generateRsaKeyPair = promisify(generateKeyPair);

/**
 * Owns the access-token signing key: the configured one, or (outside production) one generated on the
 * first start and kept in the database so a restart or a second replica signs with the same key.
 */
@Injectable()
export class SigningKeysService implements OnModuleInit, KeyResolver {
  private readonly logger = new Logger(SigningKeysService.name);
  private current: SigningKey | undefined;
  private readonly secrets = new Map<string, Buffer>();

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly repository: SigningKeyRepository,
  ) {}

  async onModuleInit(): Promise<void> {
    this.current = await signingKeyFromPem(this.config.jwt.privateKeyPem ?? (await this.storedOrGeneratedPem()));
    this.logger.log(`signing access tokens with kid ${this.current.kid}`);
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

  /**
   * A secret for `purpose`, derived from the signing key (HMAC-SHA256 of its PKCS#8 bytes): every replica that
   * signs with the same key derives the same secret, and nothing else needs configuring.
   */
  derivedSecret(purpose: string): Buffer {
    const known = this.secrets.get(purpose);
    if (known) return known;
    const keyBytes = this.signingKey().privateKey.export({ type: 'pkcs8', format: 'der' });
    const secret = createHmac('sha256', keyBytes).update(`reward-platform:${purpose}`, 'utf8').digest();
    this.secrets.set(purpose, secret);
    return secret;
  }

  publicJwks(): { keys: PublicJwk[] } {
    return { keys: [this.signingKey().jwk] };
  }

  /** The server verifies its own tokens from memory: no HTTP round trip to its own JWKS. */
  async getKey(kid: string): Promise<KeyObject | undefined> {
    const key = this.signingKey();
    return key.kid === kid ? key.publicKey : undefined;
  }
}
