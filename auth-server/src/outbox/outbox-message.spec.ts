import { Role } from '@reward/server-kit/roles';
import { describe, expect, it } from 'vitest';
import {
  type ActivityItem,
  type AuditEntry,
  friendInviteActivity,
  loginActivity,
  logoutEverywhereAudit,
  roleChangeAudit,
} from './outbox-message.js';

const at = new Date('2025-03-01T09:30:00.123+09:00');
const user = '65f1c0ffee0000000000000a';
const friend = '65f1c0ffee0000000000000b';
const admin = '65f1c0ffee0000000000000c';
const outboxId = '65f1c0ffee00000000000099';

describe('outbox payloads', () => {
  it('maps a login to a LOGIN activity for the user, in UTC, keyed by the outbox row', () => {
    expect(loginActivity(outboxId, user, at)).toEqual({
      kind: 'ACTIVITY',
      payload: { userId: user, type: 'LOGIN', occurredAt: '2025-03-01T00:30:00.123Z', externalId: `auth:LOGIN:${outboxId}` },
    });
  });

  it('maps a referral to a FRIEND_INVITE for the code owner, naming the invitee, keyed by the invitee', () => {
    expect(friendInviteActivity(user, friend, at)).toEqual({
      kind: 'ACTIVITY',
      payload: {
        userId: user,
        type: 'FRIEND_INVITE',
        occurredAt: '2025-03-01T00:30:00.123Z',
        externalId: `auth:FRIEND_INVITE:${friend}`,
        attributes: { invitedUserId: friend },
      },
    });
  });

  it('maps a role change to the event server audit entry with before and after', () => {
    const before = [Role.USER];
    const after: Role[] = [Role.USER, Role.OPERATOR];
    const envelope = roleChangeAudit(outboxId, { actorId: admin, targetId: user, before, after }, at);
    expect(envelope).toEqual({
      kind: 'AUDIT',
      payload: {
        actorId: admin,
        action: 'USER_ROLES_CHANGED',
        targetType: 'USER',
        targetId: user,
        at: '2025-03-01T00:30:00.123Z',
        changes: { roles: { before: ['USER'], after: ['USER', 'OPERATOR'] } },
        externalId: `auth:USER_ROLES_CHANGED:${outboxId}`,
      },
    });
    // The stored payload does not alias the caller's arrays.
    after.push(Role.ADMIN);
    expect(
      envelope.kind === 'AUDIT' && envelope.payload.action === 'USER_ROLES_CHANGED' && envelope.payload.changes.roles.after,
    ).toEqual(['USER', 'OPERATOR']);
  });

  it('gives every activity and audit payload an externalId within the event server limit of 128 characters', () => {
    // Access-version notices need none: the event server keys them by (userId, accessVersion).
    const payloads: Array<{ externalId: string }> = [
      loginActivity(outboxId, user, at).payload as ActivityItem,
      friendInviteActivity(user, friend, at).payload as ActivityItem,
      roleChangeAudit(outboxId, { actorId: admin, targetId: user, before: [], after: [Role.ADMIN] }, at).payload as AuditEntry,
      logoutEverywhereAudit(outboxId, { actorId: admin, targetId: user, before: 4, after: 5 }, at).payload as AuditEntry,
    ];
    for (const payload of payloads) {
      expect(payload.externalId.length).toBeLessThanOrEqual(128);
    }
  });
});
