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
  secrets: WebhookSecret[];
  createdBy: string;
  /** A change's audit entry not recorded yet (see PendingAudit); not shown by the API. */
  pendingAudit?: PendingAudit;
  createdAt: Date;
  updatedAt: Date;
}

export type WebhookEndpointChanges = Partial<
  Pick<WebhookEndpointRecord, 'url' | 'events' | 'description' | 'enabled' | 'secrets' | 'enabledAt' | 'disablings'>
> & { disabledReason?: string | null };

/** How many of an endpoint's latest disablings it keeps (see WebhookEndpointRecord.disablings). */
export const DISABLINGS_KEPT = 20;

/** The change that disables `endpoint` at `at`: that disabling kept with the latest others. */
export function disablingAt(endpoint: WebhookEndpointRecord, at: Date): Pick<WebhookEndpointChanges, 'disablings'> {
  return { disablings: [...(endpoint.disablings ?? []), at].slice(-DISABLINGS_KEPT) };
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
