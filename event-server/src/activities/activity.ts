import type { ActivitySource } from './activity.schema.js';

export interface NewActivity {
  userId: string;
  type: string;
  occurredAt: Date;
  attributes?: Record<string, unknown>;
  externalId: string;
  source: ActivitySource;
  recordedBy: string;
}

export interface ActivityRecord extends NewActivity {
  id: string;
  createdAt: Date;
}

export interface ActivityFilter {
  userId?: string;
  type?: string;
  from?: Date;
  to?: Date;
}
