import type { IdempotencyRecord } from './idempotency-key.js';
import type { IdempotencyKeyEntity } from './idempotency-key.schema.js';

/** A key's stored document, as a lean read returns it. */
export type StoredIdempotencyKey = IdempotencyKeyEntity & { _id: { toString(): string } };

export function toIdempotencyRecord(doc: StoredIdempotencyKey): IdempotencyRecord {
  return {
    id: doc._id.toString(),
    userId: doc.userId,
    key: doc.key,
    requestHash: doc.requestHash,
    state: doc.state,
    ...(doc.result != null && { result: doc.result }),
    ...(doc.error != null && { error: doc.error }),
    ...(doc.recorded === true && { recorded: true }),
    createdAt: doc.createdAt,
    ...(doc.owner != null && { owner: doc.owner }),
    lineage: doc.lineage ?? doc._id.toString(),
    lineageStored: doc.lineage != null,
  };
}
