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
   * When it was last disabled (transitions recorded from then on are not sent to it, nor wait for it); kept
   * when it is enabled again, as the end of the back-fill of the enabling before.
   */
  disabledAt?: Date;
  /**
   * Its latest disablings (up to DISABLINGS_KEPT, oldest first): a back-fill of an earlier enabling ends at the
   * first one after it, whatever came later (disabled, enabled again and disabled again within its window).
   */
  disablings?: Date[];
  secrets: WebhookSecret[];
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export type WebhookEndpointChanges = Partial<
  Pick<
    WebhookEndpointRecord,
    'url' | 'events' | 'description' | 'enabled' | 'secrets' | 'enabledAt' | 'disabledAt' | 'disablings'
  >
> & { disabledReason?: string | null };

/** How many of an endpoint's latest disablings it keeps (see WebhookEndpointRecord.disablings). */
export const DISABLINGS_KEPT = 20;

/** The changes that disable `endpoint` at `at`: its latest disabling, and that disabling kept with the others. */
export function disablingAt(
  endpoint: WebhookEndpointRecord,
  at: Date,
): Pick<WebhookEndpointChanges, 'disabledAt' | 'disablings'> {
  return { disabledAt: at, disablings: [...(endpoint.disablings ?? []), at].slice(-DISABLINGS_KEPT) };
}

/** The first time `endpoint` was disabled at or after `since`, if it was. */
export function firstDisablingSince(endpoint: WebhookEndpointRecord, since: Date): Date | undefined {
  const times = [...(endpoint.disablings ?? []), ...(endpoint.disabledAt ? [endpoint.disabledAt] : [])];
  let first: Date | undefined;
  for (const time of times) if (time.getTime() >= since.getTime() && (!first || time < first)) first = time;
  return first;
}
