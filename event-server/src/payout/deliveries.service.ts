import { Injectable } from '@nestjs/common';
import { AuditAction, AuditTargetType } from '@reward/server-kit/audit-actions';
import { DomainError } from '@reward/server-kit/errors';
import { type Page, skipOf } from '@reward/server-kit/pagination';
import type { AuthenticatedUser } from '@reward/server-kit/roles';
import { AuditLogService, pendingAudit } from '../audit/audit-log.service.js';
import { WebhookEndpointRepository } from '../webhooks/webhook-endpoint.repository.js';
import { ClaimPayoutService } from './claim-payout.service.js';
import type { DeliveryFilter, SendRequest, SendRequestKind } from './delivery.js';
import { DeliveryRepository } from './delivery.repository.js';
import type { DeliveryResponseDto, RetryFailedResponseDto, SendPendingResponseDto } from './dto/delivery-response.dto.js';
import { toDeliveryResponse } from './delivery.mapper.js';
import { PayoutRelay } from './payout-relay.service.js';
import { PayoutErrorCode } from './payout.errors.js';
import { webhookEndpointNotFound } from '../webhooks/webhook.errors.js';

@Injectable()
export class DeliveriesService {
  constructor(
    private readonly deliveries: DeliveryRepository,
    private readonly claimPayout: ClaimPayoutService,
    private readonly audit: AuditLogService,
    private readonly relay: PayoutRelay,
    private readonly endpoints: WebhookEndpointRepository,
  ) {}

  async list(filter: DeliveryFilter, page: { page: number; limit: number }): Promise<Page<DeliveryResponseDto>> {
    const { items, total } = await this.deliveries.findPage(filter, skipOf(page), page.limit);
    return { items: items.map(toDeliveryResponse), page: page.page, limit: page.limit, total };
  }

  /**
   * A FAILED delivery is due again at once with a fresh retry schedule. Of concurrent retries of one failure
   * the retry record's unique insert lets one through; the relay's lease still decides who sends.
   */
  async retry(id: string, actor: AuthenticatedUser): Promise<DeliveryResponseDto> {
    const delivery = await this.deliveries.findById(id);
    if (!delivery) throw new DomainError(404, PayoutErrorCode.DELIVERY_NOT_FOUND, `Delivery ${id} not found`);
    if (delivery.status !== 'FAILED') {
      throw new DomainError(409, PayoutErrorCode.DELIVERY_NOT_FAILED, `Delivery ${id} is ${delivery.status}, not FAILED`);
    }
    const endpoint = await this.endpoints.findById(delivery.endpointId);
    if (!endpoint) {
      throw new DomainError(
        409,
        PayoutErrorCode.DELIVERY_ENDPOINT_DELETED,
        `Delivery ${id} cannot be sent again: its webhook endpoint ${delivery.endpointId} was deleted`,
      );
    }
    // The relay would fail it again at once ("the endpoint is disabled"), one more attempt that reached nobody.
    if (!endpoint.enabled) {
      throw new DomainError(
        409,
        PayoutErrorCode.DELIVERY_ENDPOINT_DISABLED,
        `Delivery ${id} cannot be sent now: its webhook endpoint ${delivery.endpointId} is disabled; enable it ` +
          '(PATCH /webhook-endpoints/{id} with enabled: true), then retry',
      );
    }
    const now = new Date();
    // The entry rides on the retry record's insert (PendingAudit) and the reschedule lists the record on the delivery:
    // a retry whose entry the store failed to record, or whose process died first, is recorded by PayoutAuditSweep.
    const entry = pendingAudit({
      actorId: actor.id,
      action: AuditAction.DELIVERY_RETRIED,
      targetType: AuditTargetType.DELIVERY,
      targetId: id,
      changes: { status: { before: 'FAILED', after: 'PENDING' }, claimId: delivery.claimId, endpointId: delivery.endpointId },
    });
    const retryId = await this.deliveries.takeRetry(id, delivery.attempts, actor.id, now, entry);
    if (retryId === undefined) {
      throw new DomainError(409, PayoutErrorCode.DELIVERY_NOT_FAILED, `Delivery ${id} is already being retried, not FAILED`);
    }
    const rescheduled = await this.deliveries.rescheduleFailed(id, now, delivery.attempts, retryId);
    if (!rescheduled) {
      // Nothing changed by this retry: its entry is void.
      await this.deliveries.clearRetryAudit(retryId, entry.key);
      // A FAILED delivery is never removed: it moved on (sent again by a retry this one was taken over from).
      throw new DomainError(409, PayoutErrorCode.DELIVERY_NOT_FAILED, `Delivery ${id} is no longer FAILED`);
    }
    await this.audit.recordPending(entry);
    await this.deliveries.clearRetryAudit(retryId, entry.key);
    await this.claimPayout.refresh([delivery.claimId]);
    this.relay.wake();
    return toDeliveryResponse({ ...rescheduled, log: delivery.log });
  }

  /**
   * The endpoint's PENDING deliveries are sent now rather than at their next retry time (after the receiver
   * came back): each one last attempted before now gets its next attempt within seconds, and that attempt
   * starts its retry schedule over. Only a request is recorded (an insert): the relays send, each attempt by
   * the one whose lease insert wins, so a delivery being sent right now is not sent twice for it.
   */
  async sendPending(endpointId: string, actor: AuthenticatedUser): Promise<SendPendingResponseDto> {
    const { request, count } = await this.requestSends(endpointId, actor, 'SEND_PENDING');
    return { endpointId, requestedAt: request.at.toISOString(), pending: count };
  }

  /**
   * The endpoint's FAILED deliveries are sent again (after an outage outlasted their schedule, or a stray 410
   * disabled the endpoint and failed them): each one last attempted before now is made PENDING again with a
   * fresh retry schedule, as a retry of one does, and sent at the endpoint's share. As for send-pending only a
   * request is recorded (an insert): the relays work it off a few at a time (so the request costs the same
   * however many failed), each retry decided by its retry record's unique insert and each attempt by its lease,
   * so every FAILED delivery is sent once for it, whichever replicas and operators ask at once.
   */
  async retryFailed(endpointId: string, actor: AuthenticatedUser): Promise<RetryFailedResponseDto> {
    const { request, count } = await this.requestSends(endpointId, actor, 'RETRY_FAILED');
    return { endpointId, requestedAt: request.at.toISOString(), failed: count };
  }

  /**
   * Records a send-pending or retry-failed request of an enabled endpoint, audited with how many deliveries it
   * concerns, and hands it to this replica's relay (the others find it within about 10 s). A disabled endpoint is
   * refused: the relay would fail each delivery again at once ("the endpoint is disabled"), attempts that reached
   * nobody.
   */
  private async requestSends(
    endpointId: string,
    actor: AuthenticatedUser,
    kind: SendRequestKind,
  ): Promise<{ request: SendRequest; count: number }> {
    const endpoint = await this.endpoints.findById(endpointId);
    if (!endpoint) throw webhookEndpointNotFound(endpointId);
    const pending = kind === 'SEND_PENDING';
    if (!endpoint.enabled) {
      throw new DomainError(
        409,
        PayoutErrorCode.DELIVERY_ENDPOINT_DISABLED,
        `Webhook endpoint ${endpointId} is disabled: enable it (PATCH /webhook-endpoints/{id} with enabled: true), ` +
          (pending ? 'then send its pending deliveries' : 'then retry its failed deliveries'),
      );
    }
    const count = await this.deliveries.countWithStatus(endpointId, pending ? 'PENDING' : 'FAILED');
    // The entry rides on the request's insert (PendingAudit): one the store failed to record, or whose process died
    // first, is recorded by PayoutAuditSweep, as the request is worked off all the same.
    const entry = pendingAudit({
      actorId: actor.id,
      action: pending ? AuditAction.DELIVERIES_SEND_NOW_REQUESTED : AuditAction.DELIVERIES_RETRY_FAILED_REQUESTED,
      targetType: AuditTargetType.WEBHOOK_ENDPOINT,
      targetId: endpointId,
      changes: pending ? { pending: count } : { failed: count },
    });
    const request = await this.deliveries.recordSendRequest(endpointId, actor.id, entry.at, kind, entry);
    await this.audit.recordPending(entry);
    await this.deliveries.clearSendRequestAudit(request.id, entry.key);
    this.relay.sendNow(request);
    return { request, count };
  }
}
