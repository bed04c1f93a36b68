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
  secrets: WebhookSecret[];
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export type WebhookEndpointChanges = Partial<
  Pick<WebhookEndpointRecord, 'url' | 'events' | 'description' | 'enabled' | 'secrets' | 'enabledAt' | 'disabledAt'>
> & { disabledReason?: string | null };
