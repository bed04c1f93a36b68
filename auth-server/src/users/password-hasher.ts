import { randomBytes } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import bcrypt from 'bcrypt';
import { type AuthConfig, PASSWORD_MAX_BYTES } from '../config/auth-config.js';
import { AUTH_CONFIG } from '../config/config.module.js';
import { PasswordGate } from '../throttling/password-gate.js';
import { normalizedPassword, passwordBytes } from './password-policy.js';

/**
 * bcrypt with the configured cost; verifying an unknown user costs the same as verifying a known one. Every
 * hash and comparison passes the password gate (PasswordGate: 503 AUTH_BUSY when a crowd is ahead).
 * Passwords are hashed in NFC (normalizedPassword); a hash made before that, of a password typed in another
 * form, still matches the password as typed then.
 */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  private dummyHash: Promise<string> | undefined;

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly gate: PasswordGate,
  ) {}

  /** Computed once up front so the first unknown-email login is not the slow one. */
  async onModuleInit(): Promise<void> {
    await this.dummy();
  }

  hash(password: string): Promise<string> {
    return this.gate.run(() => bcrypt.hash(normalizedPassword(password), this.config.bcryptRounds));
  }

  /**
   * Compares against a dummy hash when there is no user, so an unknown email takes as long as a wrong
   * password. Passwords longer than bcrypt reads are never accepted (their tail would be ignored).
   */
  async verify(password: string, hash: string | undefined): Promise<boolean> {
    const tooLong = passwordBytes(password) > PASSWORD_MAX_BYTES;
    const normalized = normalizedPassword(password);
    const against = hash ?? (await this.dummy());
    let matches = await this.gate.run(() => bcrypt.compare(normalized, against));
    // A hash made before passwords were normalized, of the password as typed then (unknown users too: same cost).
    if (!matches && normalized !== password) matches = await this.gate.run(() => bcrypt.compare(password, against));
    return matches && hash !== undefined && !tooLong;
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= bcrypt.hash(randomBytes(32).toString('base64url'), this.config.bcryptRounds);
    return this.dummyHash;
  }
}
