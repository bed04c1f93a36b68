import type { Types } from 'mongoose';
import type { WebhookEndpointResponseDto } from './dto/webhook-endpoint-response.dto.js';
import type { WebhookEndpointRecord } from './webhook-endpoint.js';
import type { WebhookEndpointEntity } from './webhook-endpoint.schema.js';
import { previousSecrets } from './webhook-secret.js';

/** An endpoint's stored document, as a lean read returns it. */
export type StoredWebhookEndpoint = WebhookEndpointEntity & { _id: Types.ObjectId };

export function toWebhookEndpoint(doc: StoredWebhookEndpoint): WebhookEndpointRecord {
  return {
    id: doc._id.toString(),
    url: doc.url,
    events: [...doc.events],
    ...(doc.description != null && { description: doc.description }),
    enabled: doc.enabled,
    ...(doc.disabledReason != null && { disabledReason: doc.disabledReason }),
    enabledAt: doc.enabledAt ?? doc.createdAt,
    ...(doc.eventsSince != null && { eventsSince: doc.eventsSince.map(({ event, since }) => ({ event, since })) }),
    ...(doc.disablings != null && { disablings: doc.disablings }),
    ...(doc.enablings != null && { enablings: doc.enablings }),
    secrets: doc.secrets.map((secret) => ({
      value: secret.value,
      createdAt: secret.createdAt,
      ...(secret.expiresAt != null && { expiresAt: secret.expiresAt }),
    })),
    createdBy: doc.createdBy,
    ...(doc.pendingAudit && { pendingAudit: doc.pendingAudit }),
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

/** An endpoint without its secrets (only creation and rotation show the new secret, once). */
export function toWebhookEndpointResponse(endpoint: WebhookEndpointRecord, now = new Date()): WebhookEndpointResponseDto {
  // The rotated-out secret that signs longest (the latest rotation's).
  const [previous] = previousSecrets(endpoint.secrets, now);
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
