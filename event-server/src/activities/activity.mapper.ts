import type { ActivityRecord } from './activity.js';
import type { ActivityEntity } from './activity.schema.js';

/** An activity's stored document, as a lean read returns it. */
export type StoredActivity = ActivityEntity & { _id: { toString(): string } };

export function toActivity(doc: StoredActivity): ActivityRecord {
  return {
    id: doc._id.toString(),
    userId: doc.userId,
    type: doc.type,
    occurredAt: doc.occurredAt,
    ...(doc.attributes !== undefined && { attributes: doc.attributes }),
    externalId: doc.externalId,
    source: doc.source,
    recordedBy: doc.recordedBy,
    createdAt: doc.createdAt,
  };
}
