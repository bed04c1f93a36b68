import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DomainError } from '@reward/server-kit/errors';
import { mapError } from '@reward/server-kit/error-mapping';
import { isAnswerOwed, isResentAfterDrop } from '@reward/server-kit/resent-after-drop';
import { msLeftToStart } from '@reward/server-kit/start-by';
import { IDEMPOTENCY_KEY_HEADER } from '../idempotency/idempotency.rules.js';
import { retryAfterOf } from './claim.errors.js';
import { ClaimsService } from './claims.service.js';

/** The claim route as Fastify knows it (the controller's `events` + `:id/claims`). */
export const CLAIM_ROUTE = '/events/:id/claims';

/**
 * At an event's launch most taps are turned away (503 CLAIMS_BUSY with Retry-After, nothing recorded). This
 * answers them as soon as their request line and headers are read, before the token is verified and the
 * request goes through Nest, when the claims gate would shed them now: a crowd of a thousand costs the
 * server the answers, not a thousand RSA verifications and pipelines. So is a claim that arrives past its
 * start-by time (the gateway may have stopped waiting for it: START_BY_HEADER). The gate still decides for every
 * request let through. Such a request is answered 503 before its token, id or body is checked: it learns
 * only that claims are saturated (through the gateway, only an authenticated player reaches this). A keyed
 * claim the gateway resent after another replica dropped it is never shed (see RESENT_AFTER_DROP_HEADER), nor
 * is a retry of a key this process (see OwedAnswers) or another replica (ANSWER_OWED_HEADER) answered
 * IDEMPOTENCY_IN_PROGRESS.
 */
export function shedClaimsOnArrival(app: NestFastifyApplication): void {
  const claims = app.get(ClaimsService);
  // A plain callback (no promise per request); answering from the hook ends the request's lifecycle here.
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      if (request.method !== 'POST' || request.routeOptions.url !== CLAIM_ROUTE) return done();
      // A keyed claim another replica dropped unanswered may have been recorded there: it is answered for.
      if (isResentAfterDrop(request.headers)) return done();
      // A retry of a key answered IDEMPOTENCY_IN_PROGRESS, here (see OwedAnswers) or by another replica (the
      // gateway says so: ANSWER_OWED_HEADER), is owed its outcome.
      if (claims.owesAnswerFor(request.headers[IDEMPOTENCY_KEY_HEADER]) || isAnswerOwed(request.headers)) return done();
      // Shed too when it reached this process past its start-by time (see START_BY_HEADER).
      const busy = claims.shedOnArrival(msLeftToStart(request.headers));
      if (!busy) return done();
      answerShedNow(request, reply, busy);
    });
}

/**
 * Answers a request shed by an `onRequest` hook (a 503 with its Retry-After), which ends its lifecycle there. Its
 * body is never read: the connection ends with the answer rather than reading it to stay open.
 */
export function answerShedNow(request: FastifyRequest, reply: FastifyReply, busy: DomainError): void {
  const { status, body } = mapError(busy);
  if (hasBody(request.headers)) void reply.header('connection', 'close');
  void reply
    .header('retry-after', String(retryAfterOf(busy)))
    .code(status)
    .send(body);
}

function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
