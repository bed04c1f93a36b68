import type { Query } from 'mongoose';
import { CommonErrorCode, DomainError } from './errors.js';

/** How long a client is told to wait before it asks again for a list that took too long to read (Retry-After, s). */
export const LIST_TOO_SLOW_RETRY_AFTER_SECONDS = 5;

/** The store's own error for a command that ran past its `maxTimeMS` (MaxTimeMSExpired). */
const MAX_TIME_MS_EXPIRED = 50;

function ranPastItsTime(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'MongoServerError' &&
    (error as Error & { code?: unknown }).code === MAX_TIME_MS_EXPIRED
  );
}

/**
 * A list's two store commands, its page and its count, each bounded to `maxTimeMs` of the store's time
 * (LIST_READ_MAX_MS, on every server that lists). Without a bound, a list the store cannot answer quickly
 * (FerretDB v1 reads and sorts every matching document in memory: about 8 s and hundreds of MB for 60,000
 * activities) went on after the gateway had answered 504 and its client had gone, and every repeat added one
 * more: ten requests of an AUDITOR kept the store busy for two minutes and grew its memory by 5 GB, while every
 * player's request waited behind them. Past the bound the store stops the command and the client is answered
 * 503 SERVICE_UNAVAILABLE with Retry-After and `message` (which says how to narrow that list).
 */
export async function readBoundedListPage<T>(
  page: Query<T[], unknown>,
  count: Query<number, unknown>,
  maxTimeMs: number,
  message: string,
): Promise<{ docs: T[]; total: number }> {
  const [docs, total] = await withinStoreTime(
    Promise.all([page.maxTimeMS(maxTimeMs).exec(), count.maxTimeMS(maxTimeMs).exec()]),
    message,
  );
  return { docs, total };
}

/**
 * A read sent with a `maxTimeMS`: past it, the store stops the command and the client is answered 503
 * SERVICE_UNAVAILABLE with Retry-After and `message`; any other failure is left as it is.
 */
export async function withinStoreTime<T>(read: Promise<T>, message: string): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (ranPastItsTime(error)) {
      throw new DomainError(503, CommonErrorCode.SERVICE_UNAVAILABLE, message, {
        retryAfterSeconds: LIST_TOO_SLOW_RETRY_AFTER_SECONDS,
      });
    }
    throw error;
  }
}
