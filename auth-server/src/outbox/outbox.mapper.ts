import type { OutboxEnvelope, OutboxMessage } from './outbox-message.js';
import type { OutboxEntity } from './outbox.schema.js';

export function toOutboxMessage(document: OutboxEntity): OutboxMessage {
  return {
    ...({ kind: document.kind, payload: document.payload } as unknown as OutboxEnvelope),
    id: document._id.toHexString(),
    createdAt: document.createdAt,
    attempts: document.attempts,
    nextAttemptAt: document.nextAttemptAt,
    deliveredAt: document.deliveredAt ?? null,
    failedAt: document.failedAt ?? null,
    lastError: document.lastError ?? null,
  };
}
