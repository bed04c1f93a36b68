import type { Condition } from '../conditions/condition.types.js';
import type { RewardView } from '../rewards/reward.view.js';
import type { EventRecord } from './event.repository.js';

export interface EventView {
  id: string;
  title: string;
  description?: string;
  startAt: string;
  endAt: string;
  status: string;
  approval: string;
  timezone: string;
  condition: Condition;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  rewards?: RewardView[];
}

export function toEventView(event: EventRecord, rewards?: RewardView[]): EventView {
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
    ...(rewards && { rewards }),
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
