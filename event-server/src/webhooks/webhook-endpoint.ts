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
   * Since when it receives: its creation or its latest re-enabling (transitions from then on are sent to it). An
   * event type it took since is received from its own time (eventsSince, receivesSince).
   */
  enabledAt: Date;
  /**
   * The event types it took since enabledAt (PATCH {events}, enabled or not), each with when: a replica whose copy
   * still had the old list recorded transitions of that type without it from then on. Empty or absent: none.
   */
  eventsSince?: { event: string; since: Date }[];
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
  Pick<
    WebhookEndpointRecord,
    'url' | 'events' | 'description' | 'enabled' | 'secrets' | 'enabledAt' | 'eventsSince' | 'disablings' | 'enablings'
  >
> & { disabledReason?: string | null };

/**
 * Since when `endpoint` receives webhooks of event type `type`: its enabling, or when it took that type if later
 * (eventsSince); undefined when it does not take the type.
 */
export function receivesSince(endpoint: WebhookEndpointRecord, type: string): Date | undefined {
  if (!endpoint.events.includes(type)) return undefined;
  return endpoint.eventsSince?.find((entry) => entry.event === type)?.since ?? endpoint.enabledAt;
}

/**
 * The earliest time from which `now` receives an event type that `before` (a copy of the same endpoint, or none)
 * did not receive then: what a process that had `before` may have recorded without it. Undefined: nothing new.
 */
export function receivesMoreSince(before: WebhookEndpointRecord | undefined, now: WebhookEndpointRecord): Date | undefined {
  let earliest: Date | undefined;
  for (const type of now.events) {
    const since = receivesSince(now, type)!;
    const was = before && receivesSince(before, type);
    if (was !== undefined && was.getTime() >= since.getTime()) continue;
    if (earliest === undefined || since < earliest) earliest = since;
  }
  return earliest;
}

/**
 * The change of `endpoint`'s `eventsSince` when its events become `events` at `at`: a type taken is received from
 * `at`, disabled or not (a back-fill of the enabling before the disabling may still run, and owes it nothing
 * earlier); one dropped is forgotten (taken again, it starts again); an enabling starts them all.
 */
export function eventsSinceAt(
  endpoint: WebhookEndpointRecord,
  events: readonly string[],
  at: Date,
  { enabling }: { enabling: boolean },
): Pick<WebhookEndpointChanges, 'eventsSince'> {
  if (enabling) return { eventsSince: [] };
  const kept = (endpoint.eventsSince ?? []).filter((entry) => events.includes(entry.event));
  const taken = events.filter((type) => !endpoint.events.includes(type)).map((event) => ({ event, since: at }));
  return { eventsSince: [...kept, ...taken] };
}

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
