import { Injectable } from '@nestjs/common';
import { DomainError, errorBody } from '@reward/server-kit/errors';
import { type IdempotencyRecord, IdempotencyKeyRepository } from './idempotency-key.repository.js';
import { IDEMPOTENCY_RETENTION_MS, IDEMPOTENCY_STALE_MS, IdempotencyErrorCode } from './idempotency.rules.js';

/** A finished request's answer, as it is stored and replayed. */
export interface StoredResponse {
  status: number;
  body: Record<string, unknown>;
}

export interface IdempotentRequest {
  userId: string;
  /** The Idempotency-Key header, already checked; undefined = an ordinary request. */
  key?: string;
  requestHash: string;
}

/** What to do with a key whose request died mid-way: store this answer, forget the key, or wait. */
export type StaleKeyResolution = StoredResponse | 'forget' | 'wait';

/**
 * Idempotency-Key handling: the unique (userId, key) insert decides which request runs; the others get
 * its stored answer (status and body), a 422 when the key was used for something else, or a 409 while
 * the first is still running.
 */
@Injectable()
export class IdempotencyService {
  constructor(private readonly keys: IdempotencyKeyRepository) {}

  async execute(request: IdempotentRequest, work: () => Promise<StoredResponse>): Promise<StoredResponse> {
    if (request.key === undefined) return work();
    const started = await this.keys.tryStart(request.userId, request.key, request.requestHash);
    if (!started) return this.replay(request, await this.keys.find(request.userId, request.key));
    let outcome: StoredResponse;
    try {
      outcome = await work();
    } catch (error) {
      // A refusal is an answer like any other; anything else leaves the key IN_PROGRESS for the reconciler,
      // which can tell from the database whether the request got as far as recording a claim.
      if (error instanceof DomainError && error.status < 500) {
        await this.keys.complete(started.id, error.status, errorBody(error.status, error.code, error.messages, error.details));
      }
      throw error;
    }
    await this.keys.complete(started.id, outcome.status, outcome.body);
    return outcome;
  }

  /** Finishes keys left IN_PROGRESS by a dead request and deletes keys past their retention. */
  async reconcile(
    resolve: (record: IdempotencyRecord) => Promise<StaleKeyResolution>,
    staleAfterMs: number = IDEMPOTENCY_STALE_MS,
  ): Promise<void> {
    const now = Date.now();
    const stale = await this.keys.findInProgressBefore(new Date(now - staleAfterMs), 500);
    for (const record of stale) {
      const resolution = await resolve(record);
      if (resolution === 'forget') await this.keys.delete(record.id);
      else if (resolution !== 'wait') await this.keys.complete(record.id, resolution.status, resolution.body);
    }
    await this.keys.deleteCreatedBefore(new Date(now - IDEMPOTENCY_RETENTION_MS));
  }

  private replay(request: IdempotentRequest, existing: IdempotencyRecord | undefined): StoredResponse {
    if (existing && existing.requestHash !== request.requestHash) {
      throw new DomainError(
        422,
        IdempotencyErrorCode.IDEMPOTENCY_KEY_REUSED,
        'This Idempotency-Key was already used for a different request',
      );
    }
    // Missing: the reconciler forgot the key between our insert and our read; the client may retry.
    if (!existing || existing.state === 'IN_PROGRESS' || existing.responseStatus === undefined || !existing.responseBody) {
      throw new DomainError(
        409,
        IdempotencyErrorCode.IDEMPOTENCY_IN_PROGRESS,
        'A request with this Idempotency-Key is still running',
      );
    }
    if (existing.responseStatus >= 400) {
      const { statusCode: _status, error: _error, message, code, ...details } = existing.responseBody;
      throw new DomainError(existing.responseStatus, String(code), message as string | string[], details);
    }
    return { status: existing.responseStatus, body: existing.responseBody };
  }
}
