import { createHash } from 'node:crypto';
import { DomainError } from '@reward/server-kit/errors';

export const IdempotencyErrorCode = {
  INVALID_IDEMPOTENCY_KEY: 'INVALID_IDEMPOTENCY_KEY',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  IDEMPOTENCY_IN_PROGRESS: 'IDEMPOTENCY_IN_PROGRESS',
} as const;

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

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
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
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

const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/** The header's value as a key, undefined when absent; anything else than 1..255 visible ASCII is a 400. */
export function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? undefined : header;
  const problem =
    // Node joins a repeated header into one value with ", " (a space is never part of a key).
    value === undefined || value.includes(', ')
      ? 'Idempotency-Key must be given once (one header, one key)'
      : value.length === 0 || value.length > MAX_IDEMPOTENCY_KEY_LENGTH
        ? `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters long`
        : !VISIBLE_ASCII.test(value)
          ? 'Idempotency-Key must contain only visible ASCII characters'
          : undefined;
  if (problem) throw new DomainError(400, IdempotencyErrorCode.INVALID_IDEMPOTENCY_KEY, problem);
  return value;
}

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
