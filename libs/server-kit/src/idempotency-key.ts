import { DomainError } from './errors.js';

/** The header a client repeats a request under (claims, refreshes), in Node's lower case. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
export const INVALID_IDEMPOTENCY_KEY = 'INVALID_IDEMPOTENCY_KEY';

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
  if (problem) throw new DomainError(400, INVALID_IDEMPOTENCY_KEY, problem);
  return value;
}

/** The OpenAPI schema of the header's value (what parseIdempotencyKey accepts). */
export const IDEMPOTENCY_KEY_SCHEMA = {
  type: 'string',
  minLength: 1,
  maxLength: MAX_IDEMPOTENCY_KEY_LENGTH,
  pattern: '^[\\x21-\\x7e]+$',
} as const;
