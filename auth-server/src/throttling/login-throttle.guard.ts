import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { CommonErrorCode, DomainError } from '@reward/server-kit/errors';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LoginThrottleService } from './login-throttle.service.js';

/**
 * Throttles the route per client IP (`request.ip`: X-Forwarded-For is believed only from AUTH_TRUSTED_PROXIES).
 * A guard rather than service code because the answer needs a Retry-After header.
 */
@Injectable()
export class LoginThrottleGuard implements CanActivate {
  constructor(private readonly throttle: LoginThrottleService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const decision = await this.throttle.registerAttempt(request.ip);
    if (decision.allowed) return true;
    void http.getResponse<FastifyReply>().header('Retry-After', String(decision.retryAfterSeconds));
    throw new DomainError(
      429,
      CommonErrorCode.TOO_MANY_REQUESTS,
      `Too many login attempts; try again in ${decision.retryAfterSeconds} s`,
      { retryAfterSeconds: decision.retryAfterSeconds },
    );
  }
}
