import { randomBytes } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import bcrypt from 'bcrypt';
import { type AuthConfig, PASSWORD_MAX_BYTES } from '../config/auth-config.js';
import { AUTH_CONFIG } from '../config/config.module.js';
import { PasswordGate } from '../throttling/password-gate.js';

/**
 * bcrypt with the configured cost; verifying an unknown user costs the same as verifying a known one. Every
 * hash and comparison passes the password gate (PasswordGate: 503 AUTH_BUSY when a crowd is ahead).
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
    return this.gate.run(() => bcrypt.hash(password, this.config.bcryptRounds));
  }

  /**
   * Compares against a dummy hash when there is no user, so an unknown email takes as long as a wrong
   * password. Passwords longer than bcrypt reads are never accepted (their tail would be ignored).
   */
  async verify(password: string, hash: string | undefined): Promise<boolean> {
    const tooLong = Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES;
    const matches = await this.gate.run(async () => bcrypt.compare(password, hash ?? (await this.dummy())));
    return matches && hash !== undefined && !tooLong;
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= bcrypt.hash(randomBytes(32).toString('base64url'), this.config.bcryptRounds);
    return this.dummyHash;
  }
}
