import { LIST_TOO_SLOW_RETRY_AFTER_SECONDS, readBoundedListPage } from '@reward/server-kit/list-read';
import type { Query } from 'mongoose';

export { LIST_TOO_SLOW_RETRY_AFTER_SECONDS };

/**
 * What a list the store stopped past LIST_READ_MAX_MS is answered with: how to narrow it, by the filters that list
 * has (`filters`, as its query names them), or only to try again later when it has none.
 */
export function listTooSlowMessage(filters?: string): string {
  return (
    'The list took longer to read than the server spends on one (LIST_READ_MAX_MS); nothing was changed: ' +
    (filters ? `narrow it with its filters (${filters}) or try again later` : 'try again later')
  );
}

/** An event-server list's page and count, bounded in store time (server-kit's readBoundedListPage). */
export function readListPage<T>(
  page: Query<T[], unknown>,
  count: Query<number, unknown>,
  maxTimeMs: number,
  filters?: string,
): Promise<{ docs: T[]; total: number }> {
  return readBoundedListPage(page, count, maxTimeMs, listTooSlowMessage(filters));
}
