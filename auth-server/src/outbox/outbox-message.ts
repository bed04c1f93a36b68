import { AuditAction, AuditTargetType, type ReportedAuditAction } from '@reward/server-kit/audit-actions';
import type { Role } from '@reward/server-kit/roles';

export type OutboxKind = 'ACTIVITY' | 'AUDIT' | 'ACCESS';

/** One item of the event server's `POST /internal/activities` body, exactly as sent. */
export interface ActivityItem {
  userId: string;
  type: 'LOGIN' | 'FRIEND_INVITE';
  occurredAt: string;
  externalId: string;
  attributes?: { invitedUserId: string };
}

/** What an audit entry says happened to a user. */
export type AuditFacts =
  | { action: typeof AuditAction.USER_ROLES_CHANGED; changes: { roles: { before: Role[]; after: Role[] } } }
  | { action: typeof AuditAction.USER_LOGGED_OUT_EVERYWHERE; changes: { accessVersion: { before: number; after: number } } };

/**
 * The event server's `POST /internal/audit-logs` body, exactly as sent. Its action is one that server accepts
 * from here: an AuditFacts of any other action makes no AuditEntry (a compile error where it is built).
 */
export type AuditEntry = {
  actorId: string;
  action: ReportedAuditAction;
  targetType: typeof AuditTargetType.USER;
  targetId: string;
  at: string;
  externalId: string;
} & AuditFacts;

/**
 * The event server's `POST /internal/access-versions` body: from `accessVersion` on, the user's older access
 * tokens may no longer make staff writes (their roles changed, they logged out everywhere, or a staff member
 * logged out).
 */
export interface AccessVersionNotice {
  userId: string;
  accessVersion: number;
  reason: 'ROLES_CHANGED' | 'LOGGED_OUT_EVERYWHERE' | 'LOGGED_OUT';
  at: string;
}

/** The payload is stored ready to send, so what was decided in the request path is what gets delivered. */
export type OutboxEnvelope =
  | { kind: 'ACTIVITY'; payload: ActivityItem }
  | { kind: 'AUDIT'; payload: AuditEntry }
  | { kind: 'ACCESS'; payload: AccessVersionNotice };

export type NewOutboxMessage = OutboxEnvelope & { id: string; createdAt: Date };

export type OutboxMessage = NewOutboxMessage & {
  attempts: number;
  nextAttemptAt: Date;
  deliveredAt: Date | null;
  failedAt: Date | null;
  lastError: string | null;
};

/** One LOGIN per successful login; the outbox row's own id makes the externalId stable across redeliveries. */
export function loginActivity(outboxId: string, userId: string, at: Date): OutboxEnvelope {
  return {
    kind: 'ACTIVITY',
    payload: { userId, type: 'LOGIN', occurredAt: at.toISOString(), externalId: `auth:LOGIN:${outboxId}` },
  };
}

/**
 * Counts for the referral code's owner. Keyed by the invitee: an account registers once, so it can be
 * somebody's invite at most once, whatever happens to the outbox row.
 */
export function friendInviteActivity(referrerId: string, inviteeId: string, at: Date): OutboxEnvelope {
  return {
    kind: 'ACTIVITY',
    payload: {
      userId: referrerId,
      type: 'FRIEND_INVITE',
      occurredAt: at.toISOString(),
      externalId: `auth:FRIEND_INVITE:${inviteeId}`,
      attributes: { invitedUserId: inviteeId },
    },
  };
}

export function roleChangeAudit(
  outboxId: string,
  change: { actorId: string; targetId: string; before: Role[]; after: Role[] },
  at: Date,
): OutboxEnvelope {
  return userAudit(outboxId, change, at, {
    action: AuditAction.USER_ROLES_CHANGED,
    changes: { roles: { before: [...change.before], after: [...change.after] } },
  });
}

/** An ADMIN ended every session of another user: the access version that made their tokens stale. */
export function logoutEverywhereAudit(
  outboxId: string,
  change: { actorId: string; targetId: string; before: number; after: number },
  at: Date,
): OutboxEnvelope {
  return userAudit(outboxId, change, at, {
    action: AuditAction.USER_LOGGED_OUT_EVERYWHERE,
    changes: { accessVersion: { before: change.before, after: change.after } },
  });
}

/** A staff change to a user, keyed by its outbox row (so a redelivery is recorded once). */
function userAudit(outboxId: string, who: { actorId: string; targetId: string }, at: Date, facts: AuditFacts): OutboxEnvelope {
  return {
    kind: 'AUDIT',
    payload: {
      actorId: who.actorId,
      targetType: AuditTargetType.USER,
      targetId: who.targetId,
      at: at.toISOString(),
      externalId: `auth:${facts.action}:${outboxId}`,
      ...facts,
    },
  };
}

export function accessVersionNotice(
  userId: string,
  accessVersion: number,
  reason: AccessVersionNotice['reason'],
  at: Date,
): OutboxEnvelope {
  return { kind: 'ACCESS', payload: { userId, accessVersion, reason, at: at.toISOString() } };
}
