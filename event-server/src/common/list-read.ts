import { LIST_TOO_SLOW_RETRY_AFTER_SECONDS, readBoundedListPage } from '@reward/server-kit/list-read';
import type { Query } from 'mongoose';

export { LIST_TOO_SLOW_RETRY_AFTER_SECONDS };

export const LIST_TOO_SLOW_MESSAGE =
  'The list took longer to read than the server spends on one (LIST_READ_MAX_MS); nothing was changed: narrow it ' +
  'with its filters (from/to, userId, eventId, type) or try again later';

/** An event-server list's page and count, bounded in store time (server-kit's readBoundedListPage). */
export function readListPage<T>(
  page: Query<T[], unknown>,
  count: Query<number, unknown>,
  maxTimeMs: number,
): Promise<{ docs: T[]; total: number }> {
  return readBoundedListPage(page, count, maxTimeMs, LIST_TOO_SLOW_MESSAGE);
}
