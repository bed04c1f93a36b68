/** What a game subscribes to: one per claim transition the game must act on. */
export const WEBHOOK_EVENT_TYPES = ['claim.granted', 'claim.revoked', 'claim.pending'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The webhook a claim's move into this status sends, if any. */
export function webhookEventFor(status: string): WebhookEventType | undefined {
  if (status === 'GRANTED') return 'claim.granted';
  if (status === 'REVOKED') return 'claim.revoked';
  if (status === 'PENDING') return 'claim.pending';
  return undefined;
}
