/** What a game subscribes to: one per claim transition the game must act on. */
export const WEBHOOK_EVENT_TYPES = ['claim.granted', 'claim.revoked', 'claim.pending', 'claim.rejected'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/**
 * The webhook a claim's move into `status` (from `fromStatus`, for a decision) sends, if any. A rejection is
 * sent only for a claim the game was told was pending (a reviewer's rejection): a claim refused when it was
 * made (not eligible, out of stock, already claimed) was answered so at once and never reached the game.
 */
export function webhookEventFor(status: string, fromStatus?: string): WebhookEventType | undefined {
  if (status === 'GRANTED') return 'claim.granted';
  if (status === 'REVOKED') return 'claim.revoked';
  if (status === 'PENDING') return 'claim.pending';
  if (status === 'REJECTED' && fromStatus === 'PENDING') return 'claim.rejected';
  return undefined;
}
