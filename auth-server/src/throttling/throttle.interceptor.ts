import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { clientKeyOf } from '@reward/server-kit/connection-limits';
import { DomainError, tooManyRequests } from '@reward/server-kit/errors';
import { startByOf } from '@reward/server-kit/start-by';
import type { FastifyRequest } from 'fastify';
import { type Observable, type OperatorFunction, catchError, finalize, from, mergeMap } from 'rxjs';
import { TokenErrorCode } from '../tokens/token-errors.js';
import { normaliseEmail } from '../users/user.js';
import { type AttemptVerdict, LoginThrottleService } from './login-throttle.service.js';
import { PasswordGate } from './password-gate.js';

/** Runs `settle` on a failure of the handler (to settle its attempt), then passes the failure on. */
function settlingFailures<T>(settle: (error: unknown) => Promise<void>): OperatorFunction<T, T> {
  return catchError((error: unknown) =>
    from(
      settle(error).then(() => {
        throw error;
      }),
    ),
  );
}

/**
 * Takes one of the client's places in the password path, then records the attempt (`start`): its id and the
 * place's release; the place is given back at once when the attempt is refused (429) or cannot be recorded.
 */
async function begin(
  passwords: PasswordGate,
  client: string,
  what: string,
  start: () => Promise<AttemptVerdict>,
): Promise<{ release: () => void; attemptId: string }> {
  const release = passwords.holdFor(client);
  if (release instanceof DomainError) throw release;
  try {
    const verdict = await start();
    if (!verdict.allowed) throw tooManyRequests(what, verdict.retryAfterSeconds);
    return { release, attemptId: verdict.attemptId };
  } catch (error) {
    release();
    throw error;
  }
}

/**
 * Throttles `POST /auth/login` (see LoginThrottleService) by the client (`request.ip`: X-Forwarded-For is
 * believed only from AUTH_TRUSTED_PROXIES; an IPv6 address by its /64, clientKeyOf, since one host is commonly
 * given a whole /64 and could otherwise take a fresh address for every guess) and the email the body names. An interceptor, not a guard: it
 * must see how the login ended (only INVALID_CREDENTIALS counts), and it runs before validation and bcrypt.
 */
@Injectable()
export class LoginThrottleInterceptor implements NestInterceptor {
  constructor(
    private readonly throttle: LoginThrottleService,
    private readonly passwords: PasswordGate,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest<{ Body: { email?: unknown } | undefined }>>();
    const email = request.body?.email;
    // Without an email there is no password to test: validation refuses it.
    if (typeof email !== 'string') return next.handle();
    const client = clientKeyOf(request.ip);
    // A crowd already ahead: turned away before any attempt is recorded (see PasswordGate).
    const busy = this.passwords.shedOnArrival(client);
    if (busy) throw busy;
    const account = normaliseEmail(email).slice(0, 254);
    // More attempts at one account from one address than may fail there: refused before the store is asked.
    const releaseAttempt = this.throttle.holdLogin(account, client);
    if (releaseAttempt === undefined) throw tooManyRequests('failed logins', 1);
    // So is a client that already has its share of the password path (PasswordGate.holdFor).
    let started: { release: () => void; attemptId: string };
    try {
      const startBy = startByOf(request.headers);
      started = await begin(this.passwords, client, 'failed logins', () =>
        this.throttle.beginLogin(account, client, new Date(), startBy),
      );
    } catch (error) {
      releaseAttempt();
      throw error;
    }
    const { release, attemptId } = started;
    return next.handle().pipe(
      // Only here, after the password matched, does the address become known for the account.
      mergeMap(async (value: unknown) => {
        await this.throttle.succeeded(attemptId, account, client);
        return value;
      }),
      settlingFailures(async (error) => {
        const failed = error instanceof DomainError && error.code === TokenErrorCode.INVALID_CREDENTIALS;
        await (failed ? this.throttle.failed(attemptId) : this.throttle.forget(attemptId));
      }),
      // The client's place is given back once the attempt is settled, however it ended.
      finalize(() => {
        release();
        releaseAttempt();
      }),
    );
  }
}

/**
 * Throttles `POST /auth/register` per client (an IPv4 address or an IPv6 /64, as logins); every attempt counts (it also limits email probing),
 * except one shed before its password was hashed (503 AUTH_BUSY: nothing was done, and its client is told
 * to come back).
 */
@Injectable()
export class RegistrationThrottleInterceptor implements NestInterceptor {
  constructor(
    private readonly throttle: LoginThrottleService,
    private readonly passwords: PasswordGate,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const client = clientKeyOf(request.ip);
    const busy = this.passwords.shedOnArrival(client);
    if (busy) throw busy;
    const startBy = startByOf(request.headers);
    const { release, attemptId } = await begin(this.passwords, client, 'registrations from this address', () =>
      this.throttle.beginRegistration(client, new Date(), startBy),
    );
    return next.handle().pipe(
      settlingFailures(async (error) => {
        if (error instanceof DomainError && error.code === TokenErrorCode.AUTH_BUSY) await this.throttle.forget(attemptId);
      }),
      finalize(release),
    );
  }
}
