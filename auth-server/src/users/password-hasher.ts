import { randomBytes } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import bcrypt from 'bcrypt';
import { type AuthConfig, PASSWORD_MAX_BYTES } from '../config/auth-config.js';
import { AUTH_CONFIG } from '../config/config.module.js';
import { PasswordGate, type PasswordRequest } from '../throttling/password-gate.js';
import { normalizedPassword } from './password-policy.js';

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

  /** `request`: who asks, and by when (PasswordGate.run). */
  hash(password: string, request?: PasswordRequest): Promise<string> {
    return this.gate.run(() => bcrypt.hash(normalizedPassword(password), this.config.bcryptRounds), request);
  }

  /**
   * Compares against a dummy hash when there is no user, so an unknown email takes as long as a wrong
   * password. A form longer than bcrypt reads never matches (its tail would be ignored); each form is judged
   * by its own length: a password hashed as typed before passwords were normalized was at most 72 bytes as
   * typed, though its NFC form may be longer (a composition exclusion such as U+0958 doubles), and is not
   * locked out for it. `request`: who asks, and by when (PasswordGate.run).
   */
  async verify(password: string, hash: string | undefined, request?: PasswordRequest): Promise<boolean> {
    const normalized = normalizedPassword(password);
    const against = hash ?? (await this.dummy());
    let matches = (await this.gate.run(() => bcrypt.compare(normalized, against), request)) && fitsBcrypt(normalized);
    // A hash made before passwords were normalized, of the password as typed then (unknown users too: same cost).
    if (!matches && normalized !== password)
      matches = (await this.gate.run(() => bcrypt.compare(password, against), request)) && fitsBcrypt(password);
    return matches && hash !== undefined;
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= bcrypt.hash(randomBytes(32).toString('base64url'), this.config.bcryptRounds);
    return this.dummyHash;
  }
}

/** Whether bcrypt reads all of it (it ignores what comes after 72 bytes). */
function fitsBcrypt(form: string): boolean {
  return Buffer.byteLength(form, 'utf8') <= PASSWORD_MAX_BYTES;
}
