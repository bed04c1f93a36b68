import type { WebhookEndpointRecord } from './webhook-endpoint.repository.js';

export interface WebhookEndpointView {
  id: string;
  url: string;
  events: string[];
  description?: string;
  enabled: boolean;
  disabledReason?: string;
  previousSecretExpiresAt?: string;
  createdAt: string;
  updatedAt: string;
}

/** An endpoint without its secrets (only creation and rotation show the new secret, once). */
export function toWebhookEndpointView(endpoint: WebhookEndpointRecord, now = new Date()): WebhookEndpointView {
  const previous = endpoint.secrets.find((secret) => secret.expiresAt && secret.expiresAt > now);
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: endpoint.events,
    ...(endpoint.description !== undefined && { description: endpoint.description }),
    enabled: endpoint.enabled,
    ...(endpoint.disabledReason !== undefined && { disabledReason: endpoint.disabledReason }),
    ...(previous?.expiresAt && { previousSecretExpiresAt: previous.expiresAt.toISOString() }),
    createdAt: endpoint.createdAt.toISOString(),
    updatedAt: endpoint.updatedAt.toISOString(),
  };
}
