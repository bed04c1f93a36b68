import { Injectable } from '@nestjs/common';
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

  enqueueRoleChange(change: { actorId: string; targetId: string; before: Role[]; after: Role[] }, at: Date): Promise<void> {
    return this.enqueue((id) => roleChangeAudit(id, change, at), at);
  }

  enqueueLogoutEverywhere(change: { actorId: string; targetId: string; before: number; after: number }, at: Date): Promise<void> {
    return this.enqueue((id) => logoutEverywhereAudit(id, change, at), at);
  }

  enqueueAccessVersion(userId: string, accessVersion: number, reason: AccessVersionNotice['reason'], at: Date): Promise<void> {
    return this.enqueue(() => accessVersionNotice(userId, accessVersion, reason, at), at);
  }

  private async enqueue(build: (outboxId: string) => OutboxEnvelope, at: Date): Promise<void> {
    const id = this.outbox.newId();
    await this.outbox.insert({ ...build(id), id, createdAt: at });
    this.relay.nudge();
  }
}
