import { randomBytes } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { AdmissionGate, ShedError } from '@reward/server-kit/admission-gate';
import bcrypt from 'bcrypt';
import { type AuthConfig, PASSWORD_MAX_BYTES } from '../config/auth-config.js';
import { AUTH_CONFIG } from '../config/config.module.js';
import { authBusy } from '../tokens/token-errors.js';

/**
 * bcrypt with the configured cost; verifying an unknown user costs the same as verifying a known one.
 *
 * Every hash and comparison passes a gate (PASSWORD_HASH_MAX_IN_FLIGHT at once, PASSWORD_HASH_MAX_QUEUED
 * waiting, each at most PASSWORD_HASH_QUEUE_TIMEOUT_MS): a crowd signing in at an event's launch costs
 * about 50 ms of CPU per player (cost 10), and letting every request in at once only makes every one slow,
 * until the gateway answers 504 to most of them while the server goes on hashing for clients that left (500
 * sign-ins at once on two cores: 53 answered 200, 447 got 504 after 10 s). Shed requests are answered 503
 * AUTH_BUSY at once, with a Retry-After paced to when they can be served; nothing was done for them.
 */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  private dummyHash: Promise<string> | undefined;
  private readonly gate: AdmissionGate;

  constructor(@Inject(AUTH_CONFIG) private readonly config: AuthConfig) {
    this.gate = new AdmissionGate(config.passwordGate);
  }

  /** Computed once up front so the first unknown-email login is not the slow one. */
  async onModuleInit(): Promise<void> {
    await this.dummy();
  }

  hash(password: string): Promise<string> {
    return this.admitted(() => bcrypt.hash(password, this.config.bcryptRounds));
  }

  /**
   * Compares against a dummy hash when there is no user, so an unknown email takes as long as a wrong
   * password. Passwords longer than bcrypt reads are never accepted (their tail would be ignored).
   */
  async verify(password: string, hash: string | undefined): Promise<boolean> {
    const tooLong = Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES;
    const matches = await this.admitted(async () => bcrypt.compare(password, hash ?? (await this.dummy())));
    return matches && hash !== undefined && !tooLong;
  }

  /** `work` once the gate admits it; 503 AUTH_BUSY (with when to come back) when it sheds it. */
  private async admitted<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await this.gate.run(work);
    } catch (error) {
      if (error instanceof ShedError) throw authBusy(error.retryAfterSeconds);
      throw error;
    }
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= bcrypt.hash(randomBytes(32).toString('base64url'), this.config.bcryptRounds);
    return this.dummyHash;
  }
}
