import type { RouteTable } from './route-table.js';

/**
 * Whether a request on its way upstream carries an Idempotency-Key on a route whose upstream honours one
 * (the table's `idempotencyKey`), so that sending it a second time is the same as sending it once: the
 * replica pool may then send it to another replica after one dropped it unanswered. `path` may carry a
 * query string; `headers` are the request's, names in lower case.
 */
export function carriesHonouredKey(table: RouteTable, request: { method: string; path: string; headers: unknown }): boolean {
  const headers = request.headers as Record<string, unknown> | null | undefined;
  const key = headers?.['idempotency-key'];
  if (typeof key !== 'string' || key.length === 0) return false;
  const route = table.resolve(request.method, request.path);
  return route.kind === 'found' && route.policy.idempotencyKey === true;
}

/**
 * Whether a request may be sent to another replica after one dropped it unanswered: sending it twice is the
 * same as sending it once, by its key (carriesHonouredKey) or by its route (the table's `repeatable`).
 */
export function mayResendAfterDrop(table: RouteTable, request: { method: string; path: string; headers: unknown }): boolean {
  if (carriesHonouredKey(table, request)) return true;
  const route = table.resolve(request.method, request.path);
  return route.kind === 'found' && route.policy.repeatable === true;
}
