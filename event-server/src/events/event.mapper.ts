import type { RewardResponseDto } from '../rewards/dto/reward-response.dto.js';
import type { EventRecord } from './event.js';
import type { EventEntity } from './event.schema.js';
import type { EventDetailResponseDto, EventResponseDto } from './dto/event-response.dto.js';

/** An event's stored document, as a lean read returns it. */
export type StoredEvent = EventEntity & { _id: { toString(): string } };

export function toEvent(doc: StoredEvent): EventRecord {
  return {
    id: doc._id.toString(),
    title: doc.title,
    ...(doc.description !== undefined && { description: doc.description }),
    startAt: doc.startAt,
    endAt: doc.endAt,
    status: doc.status,
    approval: doc.approval,
    timezone: doc.timezone,
    condition: doc.condition,
    createdBy: doc.createdBy,
    editorIds: doc.editorIds?.includes(doc.createdBy) ? doc.editorIds : [doc.createdBy, ...(doc.editorIds ?? [])],
    ...(doc.pendingAudit && { pendingAudit: doc.pendingAudit }),
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

/** An event as the API shows it. */
export function toEventResponse(event: EventRecord): EventResponseDto {
  return {
    id: event.id,
    title: event.title,
    ...(event.description !== undefined && { description: event.description }),
    startAt: event.startAt.toISOString(),
    endAt: event.endAt.toISOString(),
    status: event.status,
    approval: event.approval,
    timezone: event.timezone,
    condition: event.condition,
    createdBy: event.createdBy,
    createdAt: event.createdAt.toISOString(),
    updatedAt: event.updatedAt.toISOString(),
  };
}

/** The fields an audit entry compares, in their response form. */
export const AUDITED_EVENT_FIELDS = [
  'title',
  'description',
  'startAt',
  'endAt',
  'status',
  'approval',
  'timezone',
  'condition',
] as const;

/** An event with its rewards (GET /events/{id}). */
export function toEventDetailResponse(event: EventRecord, rewards: RewardResponseDto[]): EventDetailResponseDto {
  return { ...toEventResponse(event), rewards };
}
