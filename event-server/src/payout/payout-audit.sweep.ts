import { Inject, Injectable, Logger } from '@nestjs/common';
import { PeriodicSweep } from '@reward/server-kit/periodic-sweep';
import { AuditLogService } from '../audit/audit-log.service.js';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { type CarriedAudit, DeliveryRepository, RETRY_ABANDONED_MS } from './delivery.repository.js';

/** Records looked at per sweep: only changes whose entry could not be recorded carry one, a handful at most. */
const SWEEP_BATCH = 100;

/**
 * Records the audit entries that payout changes left on their own inserts (PendingAudit) when the store failed or
 * the process died between the change and its entry: a send-pending or retry-failed request (the request is the
 * change, it stands), and a delivery's manual retry (its retry record; recorded if the delivery lists the record
 * in `retriedBy`, the reschedule's own write, and dropped unrecorded if the retry never happened: the delivery
 * still at that failure once the record is RETRY_ABANDONED_MS old, or moved on by another retry). When the server
 * starts, then every `CLAIM_RECONCILE_INTERVAL_MS`. The entry's key makes it one entry whoever records it; the
 * records it takes entries off are written by nobody else.
 */
@Injectable()
export class PayoutAuditSweep extends PeriodicSweep {
  protected readonly logger = new Logger(PayoutAuditSweep.name);

  constructor(
    @Inject(EVENT_CONFIG) config: EventConfig,
    private readonly deliveries: DeliveryRepository,
    private readonly auditLog: AuditLogService,
  ) {
    super('payout audit sweep', config.claims.reconcileIntervalMs);
  }

  protected async sweepOnce(now: Date): Promise<void> {
    for (const request of await this.deliveries.sendRequestsCarryingAudit(SWEEP_BATCH)) {
      await this.auditLog.recordPending(request.pendingAudit);
      await this.deliveries.clearSendRequestAudit(request.id, request.pendingAudit.key);
    }
    for (const retry of await this.deliveries.retriesCarryingAudit(SWEEP_BATCH)) await this.settleRetry(retry, now);
  }

  private async settleRetry(retry: CarriedAudit, now: Date): Promise<void> {
    const { id, deliveryId, fromAttempt, pendingAudit } = retry;
    const delivery = deliveryId === undefined ? undefined : await this.deliveries.findRetryState(deliveryId);
    if (delivery?.retriedBy.includes(id)) {
      await this.auditLog.recordPending(pendingAudit);
    } else if (
      delivery?.status === 'FAILED' &&
      delivery.attempts === fromAttempt &&
      now.getTime() - retry.at.getTime() < RETRY_ABANDONED_MS
    ) {
      // Its holder may be rescheduling it right now: the next sweep's.
      return;
    }
    await this.deliveries.clearRetryAudit(id, pendingAudit.key);
  }
}
