import { createHash } from 'node:crypto';
import { DomainError } from '@reward/server-kit/errors';
import { INVALID_IDEMPOTENCY_KEY } from '@reward/server-kit/idempotency-key';

export const IdempotencyErrorCode = {
  INVALID_IDEMPOTENCY_KEY,
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  IDEMPOTENCY_IN_PROGRESS: 'IDEMPOTENCY_IN_PROGRESS',
} as const;

export { IDEMPOTENCY_KEY_HEADER, parseIdempotencyKey } from '@reward/server-kit/idempotency-key';

/** 409: the first request with this key has not recorded its outcome yet (the client retries, Retry-After). */
export function idempotencyInProgress(): DomainError {
  return new DomainError(
    409,
    IdempotencyErrorCode.IDEMPOTENCY_IN_PROGRESS,
    'A request with this Idempotency-Key is still running',
  );
}

/** Whether `error` is that 409 (idempotencyInProgress): not an outcome, the key's first request still runs. */
export function isIdempotencyInProgress(error: unknown): boolean {
  return error instanceof DomainError && error.code === IdempotencyErrorCode.IDEMPOTENCY_IN_PROGRESS;
}
/** Kept at least 24 h; deleted once older than this. */
export const IDEMPOTENCY_RETENTION_MS = 48 * 60 * 60 * 1000;
/**
 * How often a process deletes the keys past retention (at most). Each sweep reads every finished key on a
 * store that cannot use the (state, createdAt) index (FerretDB v1 decodes each one): every reconciler pass
 * (30 s) it cost more CPU the more keys a launch left, for keys that only need to go within hours.
 */
export const IDEMPOTENCY_SWEEP_EVERY_MS = 10 * 60 * 1000;
/** An IN_PROGRESS key older than this belongs to a request whose process died. */
export const IDEMPOTENCY_STALE_MS = 60 * 1000;

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** What a key is bound to: the target and the body with its keys in a fixed order. */
export function requestHash(target: string, body: unknown): string {
  return createHash('sha256')
    .update(`${target}\n${JSON.stringify(canonical(body ?? {}))}`)
    .digest('hex');
}

/**
 * 'retry', with the lineage the key's next use records under: derived from what the last one recorded (the
 * interrupted claim's id), so that every request taking the key over agrees on it.
 */
export class RetryUnder {
  constructor(readonly lineage: string) {}
}
