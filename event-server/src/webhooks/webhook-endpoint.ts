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
  secrets: WebhookSecret[];
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export type WebhookEndpointChanges = Partial<
  Pick<WebhookEndpointRecord, 'url' | 'events' | 'description' | 'enabled' | 'secrets'>
> & { disabledReason?: string | null };
