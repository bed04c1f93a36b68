import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { mapError } from './error-mapping.js';

/** How often, at most, requests the database could not serve are reported in the log (ms). */
const STORE_WARNING_EVERY_MS = 5_000;

/**
 * The one exception filter of a server: everything thrown leaves as the error body of API.md. `storeErrors`
 * (the servers that own a database): the database unavailable is a 503 with Retry-After (see mapError).
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Exceptions');
  /** Requests answered 503 because the database was unavailable and not yet in the log, the last such error, and when the log last said so. */
  private storeFailures = 0;
  private lastStoreError: Error | undefined;
  private storeWarnedAt = Number.NEGATIVE_INFINITY;
  private storeFlush: NodeJS.Timeout | undefined;

  constructor(private readonly options: { storeErrors?: boolean } = {}) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const mapped = mapError(exception, { storeErrors: this.options.storeErrors });
    if (mapped.internal) {
      this.logger.error({ err: exception, reqId: request.id, url: request.url }, 'request failed');
    }
    if (mapped.storeUnavailable) this.noteStoreUnavailable(exception as Error);
    if (reply.sent) return;
    // "Come back later" answers (429, 503, a claim's 409 IDEMPOTENCY_IN_PROGRESS) say when twice, whoever threw
    // them: `retryAfterSeconds` in the body as Retry-After too, and a Retry-After a handler set (the claim route's)
    // in the body too, for clients whose HTTP library shows only the body.
    const body = mapped.body as { retryAfterSeconds?: unknown };
    if (typeof body.retryAfterSeconds === 'number') {
      if (!reply.hasHeader('retry-after')) void reply.header('retry-after', String(body.retryAfterSeconds));
    } else if (reply.hasHeader('retry-after')) {
      const seconds = Number(reply.getHeader('retry-after'));
      if (Number.isInteger(seconds) && seconds >= 0) body.retryAfterSeconds = seconds;
    }
    void reply.status(mapped.status).send(mapped.body);
  }

  /**
   * An outage of the database fails every request at once: one warning line at most every
   * STORE_WARNING_EVERY_MS, with how many requests it answered 503 since the last and the driver's message,
   * instead of a stack trace per request. What is left when the failures stop is said once the interval is up.
   */
  private noteStoreUnavailable(error: Error): void {
    this.storeFailures++;
    this.lastStoreError = error;
    const waitMs = this.storeWarnedAt + STORE_WARNING_EVERY_MS - performance.now();
    if (waitMs <= 0) this.flushStoreWarning();
    else this.storeFlush ??= setTimeout(() => this.flushStoreWarning(), waitMs).unref();
  }

  private flushStoreWarning(): void {
    clearTimeout(this.storeFlush);
    this.storeFlush = undefined;
    if (this.storeFailures === 0 || !this.lastStoreError) return;
    const { name, message } = this.lastStoreError;
    this.logger.warn(`${this.storeFailures} request(s) answered 503: the database is unavailable (${name}: ${message})`);
    this.storeFailures = 0;
    this.storeWarnedAt = performance.now();
  }
}
