import { STATUS_CODES } from 'node:http';
import { HttpStatus } from '@nestjs/common';

/** Codes every server and the gateway share; features add their own next to their code. */
export const CommonErrorCode = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  INVALID_JSON: 'INVALID_JSON',
  JSON_TOO_DEEP: 'JSON_TOO_DEEP',
  JSON_TOO_MANY_VALUES: 'JSON_TOO_MANY_VALUES',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  URI_TOO_LONG: 'URI_TOO_LONG',
  INVALID_ID: 'INVALID_ID',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  ROUTE_NOT_FOUND: 'ROUTE_NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  CONFLICT: 'CONFLICT',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  UPSTREAM_UNAVAILABLE: 'UPSTREAM_UNAVAILABLE',
  UPSTREAM_TIMEOUT: 'UPSTREAM_TIMEOUT',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
} as const;

/** The error body of API.md, produced by every server and the gateway. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string | string[];
  code: string;
  [extra: string]: unknown;
}

/** The most problems an error body lists one by one; the rest are counted in one more line. */
export const MAX_LISTED_PROBLEMS = 100;

/**
 * A list of problems as an error body gives it: the first MAX_LISTED_PROBLEMS, then how many more there
 * are. A 1 MB import of 1,000 items with a few unknown fields each made about 20,000 messages, an answer of
 * almost 1 MB; a client fixes the first ones and sends again.
 */
export function listedProblems(problems: readonly string[]): string[] {
  if (problems.length <= MAX_LISTED_PROBLEMS) return [...problems];
  const more = problems.length - MAX_LISTED_PROBLEMS;
  return [
    ...problems.slice(0, MAX_LISTED_PROBLEMS),
    `...and ${more} more problem${more === 1 ? '' : 's'} (only the first ${MAX_LISTED_PROBLEMS} are listed)`,
  ];
}

/**
 * Runs `make` (an error's construction) without capturing a stack trace. An error that stands for an expected
 * answer (a refusal, a shed request, a bad token) is never logged with its stack, and capturing one costs more
 * than the rest of the answer: at an event's launch most taps are shed (503 CLAIMS_BUSY), and each one's
 * ShedError and DomainError took about 5 us of stack capture apiece on a short stack, several times that
 * under Nest's pipeline (a CPU profile of a 2,000-player burst: 0.4 s of the event server's 16 s).
 */
export function withoutStackTrace<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * A failure the caller can act on. Services throw these (never HTTP exceptions); the one exception
 * filter per server turns them into the error body. A list of messages is bounded (listedProblems).
 */
export class DomainError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string | string[],
    /** Extra fields merged into the body (e.g. the recorded claim for a refused claim). */
    readonly details?: Record<string, unknown>,
  ) {
    const listed = Array.isArray(message) ? listedProblems(message) : message;
    // An answer the caller can act on, not a fault: no stack trace (see withoutStackTrace), but for a 500.
    const limit = Error.stackTraceLimit;
    if (status !== 500) Error.stackTraceLimit = 0;
    super(Array.isArray(listed) ? listed.join('; ') : listed);
    Error.stackTraceLimit = limit;
    this.messages = listed;
    this.name = 'DomainError';
  }

  readonly messages: string | string[];
}

/**
 * 429 for too many `what` (`failed logins`, `claim requests`), saying when to come back; the exception
 * filter sends `retryAfterSeconds` as Retry-After too.
 */
export function tooManyRequests(what: string, retryAfterSeconds: number): DomainError {
  return new DomainError(429, CommonErrorCode.TOO_MANY_REQUESTS, `Too many ${what}; try again in ${retryAfterSeconds} s`, {
    retryAfterSeconds,
  });
}

/** Each status's text, made once (every refusal and every shed claim at a launch asks for one). */
const statusTexts = new Map<number, string>();

export function statusText(status: number): string {
  let text = statusTexts.get(status);
  if (text === undefined) {
    text = makeStatusText(status);
    if (Number.isInteger(status) && status >= 100 && status <= 599) statusTexts.set(status, text);
  }
  return text;
}

function makeStatusText(status: number): string {
  const name = HttpStatus[status] as string | undefined;
  // Nest's enum lacks a few (431 Request Header Fields Too Large): Node's table has them.
  if (!name) return STATUS_CODES[status] ?? (status >= 500 ? 'Internal Server Error' : 'Error');
  return name
    .toLowerCase()
    .split('_')
    .map((word) => (word === 'uri' ? 'URI' : word.charAt(0).toUpperCase() + word.slice(1)))
    .join(' ');
}

export function errorBody(
  status: number,
  code: string,
  message: string | string[],
  details?: Record<string, unknown>,
): ErrorBody {
  return { ...details, statusCode: status, error: statusText(status), message, code };
}
