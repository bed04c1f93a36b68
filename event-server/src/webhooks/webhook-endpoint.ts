import type { PendingAudit } from '../audit/audit-log.service.js';
export interface WebhookSecret {
  value: string;
  createdAt: Date;
  expiresAt?: Date;
}

export interface WebhookEndpointRecord {
  id: string;
  url: string;
  events: string[];
  description?: string;
  enabled: boolean;
  disabledReason?: string;
  /**
   * Since when it receives what it is subscribed to: its creation, its latest re-enabling, or its latest
   * subscription to another event type (transitions from then on are sent to it).
   */
  enabledAt: Date;
  /**
   * Its latest disablings (up to DISABLINGS_KEPT, oldest first). The last is when it was last disabled
   * (transitions recorded from then on are not sent to it, nor wait for it: lastDisabling); a back-fill of an
   * earlier enabling ends at the first one after it, whatever came later (firstDisablingSince).
   */
  disablings?: Date[];
  /**
   * Its latest enablings (its creation and each re-enabling, up to DISABLINGS_KEPT, oldest first): with the
   * disablings, whether it was disabled at a given time since the first of them (wasDisabledAt). An endpoint
   * created before they were kept has none until it is enabled again.
   */
  enablings?: Date[];
  secrets: WebhookSecret[];
  createdBy: string;
  /** A change's audit entry not recorded yet (see PendingAudit); not shown by the API. */
  pendingAudit?: PendingAudit;
  createdAt: Date;
  updatedAt: Date;
}

export type WebhookEndpointChanges = Partial<
  Pick<WebhookEndpointRecord, 'url' | 'events' | 'description' | 'enabled' | 'secrets' | 'enabledAt' | 'disablings' | 'enablings'>
> & { disabledReason?: string | null };

/** How many of an endpoint's latest disablings it keeps (see WebhookEndpointRecord.disablings). */
export const DISABLINGS_KEPT = 20;

/** The change that disables `endpoint` at `at`: that disabling kept with the latest others. */
export function disablingAt(endpoint: WebhookEndpointRecord, at: Date): Pick<WebhookEndpointChanges, 'disablings'> {
  return { disablings: [...(endpoint.disablings ?? []), at].slice(-DISABLINGS_KEPT) };
}

/** The change that enables `endpoint` (disabled) again at `at`: that enabling kept with the latest others. */
export function enablingAt(endpoint: WebhookEndpointRecord, at: Date): Pick<WebhookEndpointChanges, 'enablings'> {
  return { enablings: [...(endpoint.enablings ?? []), at].slice(-DISABLINGS_KEPT) };
}

/**
 * Whether `endpoint` was disabled at `at`: disabled at or before it and not enabled again between. Told only
 * from its first kept enabling on (before it, or for an endpoint that keeps none, false: not known).
 */
export function wasDisabledAt(endpoint: WebhookEndpointRecord, at: Date): boolean {
  const enablings = endpoint.enablings ?? [];
  const time = at.getTime();
  if (enablings.length === 0 || time < enablings[0]!.getTime()) return false;
  const latest = (times: readonly Date[]): number =>
    Math.max(-Infinity, ...times.map((t) => t.getTime()).filter((t) => t <= time));
  return latest(endpoint.disablings ?? []) >= latest(enablings);
}

/** When `endpoint` was last disabled, if it ever was. */
export function lastDisabling(endpoint: WebhookEndpointRecord): Date | undefined {
  return endpoint.disablings?.at(-1);
}

/** The first time `endpoint` was disabled at or after `since`, if it was. */
export function firstDisablingSince(endpoint: WebhookEndpointRecord, since: Date): Date | undefined {
  let first: Date | undefined;
  for (const time of endpoint.disablings ?? []) if (time.getTime() >= since.getTime() && (!first || time < first)) first = time;
  return first;
}
