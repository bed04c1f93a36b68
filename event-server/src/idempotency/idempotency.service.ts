import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '@reward/server-kit/errors';
import { AtMostEvery } from '@reward/server-kit/at-most-every';
import { GroupedWrites } from '../common/grouped-writes.js';
import type { IdempotencyRecord } from './idempotency-key.js';
import { IdempotencyKeyRepository } from './idempotency-key.repository.js';
import {
  IDEMPOTENCY_RETENTION_MS,
  IDEMPOTENCY_STALE_MS,
  IDEMPOTENCY_SWEEP_EVERY_MS,
  IdempotencyErrorCode,
  RetryUnder,
  idempotencyInProgress,
  isIdempotencyInProgress,
} from './idempotency.rules.js';
import { InstanceLiveness } from './instance-liveness.js';

export interface IdempotentRequest {
  userId: string;
  /** The Idempotency-Key header, already checked; undefined = an ordinary request. */
  key?: string;
  requestHash: string;
}

/**
 * What to do with a key whose request died mid-way: store this outcome, or wait, or forget the key: 'forget'
 * when the request recorded nothing, RetryUnder when all it recorded tells the client to try again (a claim
 * the reconciler rejected as INTERRUPTED). A request taking over a forgotten key records under the key's
 * lineage (IdempotencyRecord.lineage) after 'forget', and under RetryUnder's after that.
 */
export type StaleKeyResolution<T> = T | 'forget' | RetryUnder | 'wait';

export interface ExecuteOptions<T> {
  /** False for an outcome that must not be replayed (the client should retry it): the key is left for the reconciler. */
  final?: (outcome: T) => boolean;
  /**
   * For a key whose first request is still IN_PROGRESS: the outcome that request already recorded for good,
   * read from the database; 'wait' while what it recorded is unfinished; 'forget' when it recorded nothing
   * lasting. A request whose process died after recording its outcome (a replica killed mid-request) leaves
   * its key IN_PROGRESS until the reconciler finds it stale; with this, a client retrying with the key gets
   * the recorded answer at once, and the key is completed with it. When it recorded nothing and the key's
   * owner is dead (InstanceLiveness), the key is taken over: the retry is decided now, as a first request.
   * Otherwise the answer is IDEMPOTENCY_IN_PROGRESS.
   */
  recorded?: (record: IdempotencyRecord) => Promise<StaleKeyResolution<T>>;
  /**
   * Whether the outcome is what the request recorded under the key's lineage (`key`: the key it ran under)
   * and that record never changes: the key is then completed without a copy of the outcome, together with the
   * other keys completed meanwhile (one command for them all, see GroupedWrites), and a replay reads the
   * outcome with `recorded`. At a launch most keyed claims are refused (the stock is gone), each refusal a
   * claim of its own that never changes: a copy on the key was an update each, on FerretDB the dearest
   * command of the claim (read-then-write of the document, and a read of the whole collection to find it).
   */
  recordedForGood?: (outcome: T, key: IdempotencyRecord) => boolean;
}

/** Abandoned keys remembered (see IdempotencyService.abandoned; about 50 bytes each). */
const ABANDONED_KEYS_KEPT = 10_000;

/**
 * What replay found: an outcome to answer with, or a key whose dead owner recorded nothing lasting, to take
 * over (`lineage`: what the taking request records under).
 */
type Replayed<T> = { outcome: T } | { takeOver: IdempotencyRecord; lineage: string };

/**
 * Idempotency-Key handling: the unique (userId, key) insert decides which request runs; the others get
 * its stored outcome (what the use case returned, or the refusal it threw), a 422 when the key was used
 * for something else, or a 409 while the first is still running. It stores outcomes, not HTTP answers:
 * the caller maps a replayed outcome exactly as it maps a fresh one.
 */
@Injectable()
export class IdempotencyService {
  constructor(
    private readonly keys: IdempotencyKeyRepository,
    private readonly liveness: InstanceLiveness,
  ) {}

  /**
   * Keys (by id) that a request of this process took and that it left IN_PROGRESS when it failed (the store
   * went away under it, say), oldest first, at most ABANDONED_KEYS_KEPT. Nothing runs for such a key any more:
   * like a dead owner's, it is taken over by the next request with it (which reaches this process), instead
   * of answering IDEMPOTENCY_IN_PROGRESS until the reconciler finds it stale (a minute). Kept here rather than
   * judged by the key's owner, which a process whose heartbeats fail (the store away) writes on no key.
   */
  private readonly abandoned = new Set<string>();

  private readonly logger = new Logger(IdempotencyService.name);

  /**
   * Keys completed as `recorded` (see ExecuteOptions.recordedForGood), grouped. When a write fails, its
   * requests are answered all the same: each key stays IN_PROGRESS with its outcome recorded under its lineage,
   * which a retry with the key, or the reconciler, reads as for a request that died at this point (failing
   * them would fail every request of the group, up to GROUPED_WRITE_MAX, for one write). Said once per write.
   */
  private readonly recordedKeys = new GroupedWrites<string>(async (ids) => {
    try {
      await this.keys.completeRecorded(ids);
    } catch (error) {
      this.logger.warn(
        `${ids.length} idempotency key(s) whose outcome is recorded were not completed (a retry reads it): ${String(error)}`,
      );
    }
  });

  private noteAbandoned(keyId: string): void {
    if (this.abandoned.size >= ABANDONED_KEYS_KEPT) this.abandoned.delete(this.abandoned.values().next().value!);
    this.abandoned.add(keyId);
  }

  /** The key's record when a request with it was ever started (stored, whatever its state). */
  find(userId: string, key: string): Promise<IdempotencyRecord | undefined> {
    return this.keys.find(userId, key);
  }

  /**
   * The answer for a stored key (`record`, from find) without running anything: its stored outcome, the
   * outcome its first request recorded (options.recorded), or IDEMPOTENCY_IN_PROGRESS. A dead owner's key is
   * not taken over. For a request that may no longer start work but must be answered for its key.
   */
  async answerStored<T extends object>(
    request: IdempotentRequest,
    record: IdempotencyRecord,
    options: ExecuteOptions<T> = {},
  ): Promise<T> {
    const replayed = await this.replay<T>(request, record, options, false);
    if ('outcome' in replayed) return replayed.outcome;
    throw idempotencyInProgress();
  }

  /**
   * Runs `work` once for the key (or for a request without one): `work` is given the key's use
   * (IdempotencyRecord.lineage; undefined without a key), the same for a run that took the key over, so
   * that what it records can be made unique per use (see keyedClaimId): an owner judged dead that was
   * only stalled, and wakes up to record its own, is then refused by a unique index.
   */
  execute<T extends object>(
    request: IdempotentRequest,
    work: (lineage: string | undefined) => Promise<T>,
    options: ExecuteOptions<T> = {},
  ): Promise<T> {
    return this.attempt(request, work, options);
  }

  private async attempt<T extends object>(
    request: IdempotentRequest,
    work: (lineage: string | undefined) => Promise<T>,
    options: ExecuteOptions<T>,
  ): Promise<T> {
    if (request.key === undefined) return work(undefined);
    const { userId, key, requestHash } = request;
    let started = await this.keys.tryStart(userId, key, requestHash, this.liveness.owner);
    if (!started) {
      const replayed = await this.replay<T>(request, await this.keys.find(userId, key), options, true);
      if ('outcome' in replayed) return replayed.outcome;
      // Nothing runs for the key and its request recorded nothing lasting: this request takes it over, on
      // the same document (never deleted and inserted again: between the two, a request with the key would
      // start a new lineage, and the stalled run could record a second claim). Two requests taking it over
      // at once both run, under one lineage: whatever they record is decided by a unique index.
      const { takeOver, lineage } = replayed;
      this.abandoned.delete(takeOver.id);
      const taken = await this.keys.takeOver(takeOver.id, this.liveness.owner, lineage);
      // Gone meanwhile (past its retention): a new document, under the same lineage.
      started = taken ?? (await this.keys.tryStart(userId, key, requestHash, this.liveness.owner, lineage));
      if (!started) throw idempotencyInProgress();
    }
    let outcome: T;
    try {
      outcome = await work(started.lineage);
    } catch (error) {
      // A refusal is an outcome like any other; anything else leaves the key IN_PROGRESS for the reconciler,
      // which can tell from the database whether the request got as far as recording something.
      // Except "still in progress" (an earlier run of this request is unfinished): not an outcome at all.
      if (error instanceof DomainError && error.status < 500 && !isIdempotencyInProgress(error)) {
        await this.keys.complete(started.id, {
          error: {
            status: error.status,
            code: error.code,
            message: error.messages,
            ...(error.details !== undefined && { details: error.details }),
          },
        });
      } else if (!isIdempotencyInProgress(error)) {
        // Nothing runs for the key any more: its next request here takes it over (see abandoned).
        this.noteAbandoned(started.id);
      }
      throw error;
    }
    if (options.final?.(outcome) ?? true) {
      if (options.recorded && options.recordedForGood?.(outcome, started)) await this.recordedKeys.add(started.id);
      else await this.keys.complete(started.id, { result: outcome as Record<string, unknown> });
    }
    return outcome;
  }

  /** The deletion of keys past retention (see IDEMPOTENCY_SWEEP_EVERY_MS): the first pass makes it. */
  private readonly sweep = new AtMostEvery(IDEMPOTENCY_SWEEP_EVERY_MS);

  /**
   * Finishes keys left IN_PROGRESS by a dead request (its outcome; FORGOTTEN when it recorded nothing, or
   * only what is to be retried, then under RetryUnder's lineage) and, every IDEMPOTENCY_SWEEP_EVERY_MS,
   * deletes keys past their retention.
   */
  async reconcile<T extends object>(
    resolve: (record: IdempotencyRecord) => Promise<StaleKeyResolution<T>>,
    staleAfterMs: number = IDEMPOTENCY_STALE_MS,
  ): Promise<void> {
    const now = Date.now();
    const stale = await this.keys.findInProgressBefore(new Date(now - staleAfterMs), 500);
    for (const record of stale) {
      const resolution = await resolve(record);
      // Nothing recorded: kept, FORGOTTEN, so that the request taking it over records under its lineage (a
      // deleted key would start a new one, and its owner, only stalled, could record a second claim).
      if (resolution === 'forget') await this.keys.markForgotten(record.id);
      else if (resolution instanceof RetryUnder) await this.keys.markForgotten(record.id, resolution.lineage);
      else if (resolution !== 'wait') await this.keys.complete(record.id, { result: resolution as Record<string, unknown> });
    }
    if (this.sweep.due(now)) await this.keys.deleteCreatedBefore(new Date(now - IDEMPOTENCY_RETENTION_MS));
  }

  private async replay<T extends object>(
    request: IdempotentRequest,
    existing: IdempotencyRecord | undefined,
    options: ExecuteOptions<T>,
    mayTakeOver: boolean,
  ): Promise<Replayed<T>> {
    if (existing && existing.requestHash !== request.requestHash) {
      throw new DomainError(
        422,
        IdempotencyErrorCode.IDEMPOTENCY_KEY_REUSED,
        'This Idempotency-Key was already used for a different request',
      );
    }
    if (existing?.state === 'DONE' && existing.recorded) {
      // The outcome is the use's own record under the lineage, which never changes (recordedForGood).
      const recorded = options.recorded ? await options.recorded(existing) : 'wait';
      if (typeof recorded === 'object' && !(recorded instanceof RetryUnder)) return { outcome: recorded };
      // Not so (the record gone?): nothing to answer with; the client may retry.
      throw idempotencyInProgress();
    }
    if (existing?.state === 'DONE' && existing.error) {
      const { status, code, message, details } = existing.error;
      throw new DomainError(status, code, message, details);
    }
    if ((existing?.state === 'IN_PROGRESS' || existing?.state === 'FORGOTTEN') && options.recorded) {
      const outcome = await options.recorded(existing);
      if (outcome === 'forget' || outcome instanceof RetryUnder) {
        // Forgotten by the reconciler, abandoned by this process, or its owner dead: nothing runs for it.
        const idle =
          existing.state === 'FORGOTTEN' || this.abandoned.has(existing.id) || (await this.liveness.isDead(existing.owner));
        if (mayTakeOver && idle) {
          return { takeOver: existing, lineage: outcome instanceof RetryUnder ? outcome.lineage : existing.lineage };
        }
      } else if (outcome !== 'wait' && (options.final?.(outcome) ?? true)) {
        // The first request, if it still runs, completes the key with this same outcome.
        await this.keys.complete(existing.id, { result: outcome as Record<string, unknown> });
        return { outcome };
      }
    }
    // Missing: the reconciler forgot the key between our insert and our read; the client may retry.
    if (!existing || existing.state === 'IN_PROGRESS' || !existing.result) {
      throw idempotencyInProgress();
    }
    return { outcome: existing.result as T };
  }
}
