/**
 * Every action an audit entry can name. The event server keeps the log and writes most entries; the auth
 * server reports its own (REPORTED_AUDIT_ACTIONS) through its outbox. Both name them from here, so a typo is a
 * compile error and the log's `?action=` filter knows every name there is. Adding a name is adding it here
 * (and to the table in docs/api-rules.md); renaming one would hide its older entries from that filter.
 */
export const AuditAction = {
  EVENT_CREATED: 'EVENT_CREATED',
  EVENT_UPDATED: 'EVENT_UPDATED',
  REWARD_CREATED: 'REWARD_CREATED',
  REWARD_UPDATED: 'REWARD_UPDATED',
  CLAIM_APPROVED: 'CLAIM_APPROVED',
  CLAIM_REJECTED: 'CLAIM_REJECTED',
  CLAIM_REVOKED: 'CLAIM_REVOKED',
  ACTIVITIES_IMPORTED: 'ACTIVITIES_IMPORTED',
  WEBHOOK_ENDPOINT_CREATED: 'WEBHOOK_ENDPOINT_CREATED',
  WEBHOOK_ENDPOINT_UPDATED: 'WEBHOOK_ENDPOINT_UPDATED',
  WEBHOOK_SECRET_ROTATED: 'WEBHOOK_SECRET_ROTATED',
  WEBHOOK_ENDPOINT_DELETED: 'WEBHOOK_ENDPOINT_DELETED',
  DELIVERY_RETRIED: 'DELIVERY_RETRIED',
  DELIVERIES_SEND_NOW_REQUESTED: 'DELIVERIES_SEND_NOW_REQUESTED',
  DELIVERIES_RETRY_FAILED_REQUESTED: 'DELIVERIES_RETRY_FAILED_REQUESTED',
  USER_ROLES_CHANGED: 'USER_ROLES_CHANGED',
  USER_LOGGED_OUT_EVERYWHERE: 'USER_LOGGED_OUT_EVERYWHERE',
} as const;
export type AuditAction = (typeof AuditAction)[keyof typeof AuditAction];
export const AUDIT_ACTIONS: readonly AuditAction[] = Object.values(AuditAction);

/** The actions the auth server reports (`POST /internal/audit-logs`): changes to users, made there. */
export const REPORTED_AUDIT_ACTIONS = [AuditAction.USER_ROLES_CHANGED, AuditAction.USER_LOGGED_OUT_EVERYWHERE] as const;
export type ReportedAuditAction = (typeof REPORTED_AUDIT_ACTIONS)[number];

/**
 * What an entry's `targetId` names. Two are spelled in another case than the rest (`WebhookEndpoint`,
 * `Delivery`): they are stored so, and the log's `?targetType=` filter matches stored values, so a respelling
 * would split their history in two.
 */
export const AuditTargetType = {
  EVENT: 'EVENT',
  REWARD: 'REWARD',
  CLAIM: 'CLAIM',
  ACTIVITY_IMPORT: 'ACTIVITY_IMPORT',
  WEBHOOK_ENDPOINT: 'WebhookEndpoint',
  DELIVERY: 'Delivery',
  USER: 'USER',
} as const;
export type AuditTargetType = (typeof AuditTargetType)[keyof typeof AuditTargetType];
export const AUDIT_TARGET_TYPES: readonly AuditTargetType[] = Object.values(AuditTargetType);
