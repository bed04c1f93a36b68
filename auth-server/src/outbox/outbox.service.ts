import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import type { Role } from '@reward/server-kit/roles';
import {
  type AccessVersionNotice,
  type OutboxEnvelope,
  accessVersionNotice,
  friendInviteActivity,
  loginActivity,
  logoutEverywhereAudit,
  roleChangeAudit,
} from './outbox-message.js';
import { OutboxRelay } from './outbox-relay.service.js';
import { OutboxRepository } from './outbox.repository.js';

/**
 * The one way services report something to the event server: a row in this server's own database, written
 * in the caller's request path (a failure here fails the request), delivered by the relay, which is nudged
 * to poll at once.
 */
@Injectable()
export class OutboxService {
  constructor(
    private readonly outbox: OutboxRepository,
    private readonly relay: OutboxRelay,
  ) {}

  enqueueLogin(userId: string, at: Date): Promise<void> {
    return this.enqueue((id) => loginActivity(id, userId, at), at);
  }

  enqueueFriendInvite(referrerId: string, inviteeId: string, at: Date): Promise<void> {
    return this.enqueue(() => friendInviteActivity(referrerId, inviteeId, at), at);
  }

  /** `once`: names the change; its row is written once however often it is reported (see onceId). */
  enqueueRoleChange(
    change: { actorId: string; targetId: string; before: Role[]; after: Role[] },
    at: Date,
    once?: string,
  ): Promise<void> {
    return this.enqueue((id) => roleChangeAudit(id, change, at), at, once && onceId(once, 'audit'));
  }

  enqueueLogoutEverywhere(change: { actorId: string; targetId: string; before: number; after: number }, at: Date): Promise<void> {
    return this.enqueue((id) => logoutEverywhereAudit(id, change, at), at);
  }

  /** `once`: names the change; its row is written once however often it is reported (see onceId). */
  enqueueAccessVersion(
    userId: string,
    accessVersion: number,
    reason: AccessVersionNotice['reason'],
    at: Date,
    once?: string,
  ): Promise<void> {
    return this.enqueue(() => accessVersionNotice(userId, accessVersion, reason, at), at, once && onceId(once, 'access'));
  }

  /** `id`: the row's own, when it must be one row however often it is written (a duplicate is that row, written). */
  private async enqueue(build: (outboxId: string) => OutboxEnvelope, at: Date, id?: string): Promise<void> {
    const rowId = id ?? this.outbox.newId();
    try {
      await this.outbox.insert({ ...build(rowId), id: rowId, createdAt: at });
    } catch (error) {
      // Refused as a duplicate: written before only if that is this very row (another index may have refused it).
      if (id === undefined || !isDuplicateKeyError(error) || !(await this.outbox.exists(id))) throw error;
    }
    this.relay.nudge();
  }
}

/** An outbox row id (an ObjectId's 24 hex digits) made from what names a change and which of its rows it is. */
function onceId(once: string, part: string): string {
  return createHash('sha256').update(`${once}:${part}`).digest('hex').slice(0, 24);
}
