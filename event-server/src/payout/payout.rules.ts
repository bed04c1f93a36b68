/** What a delivery is: waiting to be sent (or re-sent), received with a 2xx, or given up on. */
export const DELIVERY_STATUSES = ['PENDING', 'DELIVERED', 'FAILED'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** A claim's payout as everyone sees it: NOT_REQUIRED when no endpoint was subscribed to its transitions. */
export const PAYOUT_STATUSES = ['NOT_REQUIRED', 'PENDING', 'DELIVERED', 'FAILED'] as const;
export type PayoutStatus = (typeof PAYOUT_STATUSES)[number];

export interface ClaimPayout {
  status: PayoutStatus;
  attempts: number;
  lastAttemptAt?: Date;
  lastError?: string;
  deliveredAt?: Date;
}

/** A claim's payout from the moment its webhooks are recorded until the first attempt ends. */
export function payoutRecorded(): ClaimPayout {
  return { status: 'PENDING', attempts: 0 };
}

export interface AttemptResult {
  statusCode?: number;
  latencyMs: number;
  error?: string;
}

export type AttemptOutcome =
  | { status: 'DELIVERED' }
  | { status: 'FAILED'; disableEndpoint: boolean; error: string }
  | { status: 'PENDING'; nextAttemptAt: Date; error: string };

/** How one attempt ends the delivery or schedules the next: 2xx delivered, 410 gone, else retry until the schedule ends. */
export function outcomeOf(
  result: AttemptResult,
  retriesDone: number,
  scheduleMs: readonly number[],
  now: Date,
  random: () => number = Math.random,
): AttemptOutcome {
  const code = result.statusCode;
  if (code !== undefined && code >= 200 && code < 300) return { status: 'DELIVERED' };
  if (code === 410) return { status: 'FAILED', disableEndpoint: true, error: 'the receiver answered 410 Gone' };
  const error = result.error ?? `the receiver answered ${code}`;
  const delay = scheduleMs[retriesDone];
  if (delay === undefined) return { status: 'FAILED', disableEndpoint: false, error };
  return { status: 'PENDING', nextAttemptAt: new Date(now.getTime() + jittered(delay, random)), error };
}

/**
 * ±10 % so that a receiver coming back is not hit by every retry at the same instant (the relay draws once for
 * the attempts it records together: those failed together already); no more, so that the default schedule
 * (27.6 h) still retries for at least 24 h when every delay draws the shortest.
 */
export function jittered(delayMs: number, random: () => number = Math.random): number {
  return Math.round(delayMs * (0.9 + 0.2 * random()));
}

export interface DeliveryProgress {
  status: DeliveryStatus;
  attempts: number;
  lastAttemptAt?: Date;
  lastError?: string;
  deliveredAt?: Date;
}

/** The claim's payout from its deliveries: pending while any is, failed when any gave up, else delivered. */
export function payoutOf(deliveries: readonly DeliveryProgress[]): ClaimPayout {
  if (deliveries.length === 0) return { status: 'NOT_REQUIRED', attempts: 0 };
  const status: PayoutStatus = deliveries.some((d) => d.status === 'PENDING')
    ? 'PENDING'
    : deliveries.some((d) => d.status === 'FAILED')
      ? 'FAILED'
      : 'DELIVERED';
  const attempts = deliveries.reduce((sum, d) => sum + d.attempts, 0);
  const latest = [...deliveries]
    .filter((d) => d.lastAttemptAt)
    .sort((a, b) => (b.lastAttemptAt as Date).getTime() - (a.lastAttemptAt as Date).getTime());
  const lastError = status === 'DELIVERED' ? undefined : latest.find((d) => d.status !== 'DELIVERED' && d.lastError)?.lastError;
  const deliveredAt =
    status === 'DELIVERED' ? new Date(Math.max(...deliveries.map((d) => d.deliveredAt?.getTime() ?? 0))) : undefined;
  return {
    status,
    attempts,
    ...(latest[0]?.lastAttemptAt && { lastAttemptAt: latest[0].lastAttemptAt }),
    ...(lastError !== undefined && { lastError }),
    ...(deliveredAt && { deliveredAt }),
  };
}
