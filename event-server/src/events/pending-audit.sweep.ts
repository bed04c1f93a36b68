import { Inject, Injectable, Logger } from '@nestjs/common';
import { PeriodicSweep } from '@reward/server-kit/periodic-sweep';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { EditLock } from '../edit-lock/edit-lock.js';
import { AuditLogService, type PendingAudit, recordPendingAudit } from '../audit/audit-log.service.js';
import { RewardRepository } from '../rewards/reward.repository.js';
import { WebhookEndpointRepository } from '../webhooks/webhook-endpoint.repository.js';
import { settleRemovalAudit } from '../webhooks/webhook-endpoints.service.js';
import { EventRepository } from './event.repository.js';

/** Documents looked at per sweep: only changes whose entry could not be recorded carry one, a handful at most. */
const SWEEP_BATCH = 100;

/**
 * Records the audit entries that changes left on their documents (PendingAudit) when the store failed or the
 * process died between the change and its entry, and nobody changed the document again or sent the change again
 * (either of which records it first): when the server starts, then every `CLAIM_RECONCILE_INTERVAL_MS` with the
 * rest of what crashed requests left behind. Each under the document's edit lock, as its changes are, so that it
 * never writes back over a change being made (updates are read-then-write on our store). The entry's key makes it
 * one entry whoever records it.
 */
@Injectable()
export class PendingAuditSweep extends PeriodicSweep {
  protected readonly logger = new Logger(PendingAuditSweep.name);

  constructor(
    @Inject(EVENT_CONFIG) config: EventConfig,
    private readonly events: EventRepository,
    private readonly rewards: RewardRepository,
    private readonly webhookEndpoints: WebhookEndpointRepository,
    private readonly auditLog: AuditLogService,
    private readonly editLock: EditLock,
  ) {
    super('pending audit sweep', config.claims.reconcileIntervalMs);
  }

  protected async sweepOnce(): Promise<void> {
    await this.sweepOf('event', this.events);
    await this.sweepOf('reward', this.rewards);
    await this.sweepOf('webhook-endpoint', this.webhookEndpoints);
    // Deleted webhook endpoints whose deletion's entry is still on their removal (settleRemovalAudit).
    await this.settleEach(
      'webhook-endpoint',
      'the removal of ',
      await this.webhookEndpoints.findRemovalIdsWithPendingAudit(SWEEP_BATCH),
      (id, lease) => settleRemovalAudit(id, this.webhookEndpoints, this.auditLog, lease),
    );
  }

  /** The documents of one kind (edit lock `<kind>:<id>`, as their changes take) that carry an entry. */
  private async sweepOf(
    kind: string,
    store: {
      findIdsWithPendingAudit(limit: number): Promise<string[]>;
      findById(id: string): Promise<{ id: string; pendingAudit?: PendingAudit } | undefined>;
      clearPendingAudit(id: string, key: string): Promise<void>;
    },
  ): Promise<void> {
    await this.settleEach(kind, '', await store.findIdsWithPendingAudit(SWEEP_BATCH), async (id, lease) => {
      const document = await store.findById(id);
      if (document) await recordPendingAudit(document, this.auditLog, store, lease);
    });
  }

  /** Settles each id's entry under its edit lock (`<kind>:<id>`); one that cannot be settled now waits for the next sweep. */
  private async settleEach(
    kind: string,
    where: string,
    ids: readonly string[],
    settle: (id: string, lease: { assertHeld(): void }) => Promise<void>,
  ): Promise<void> {
    for (const id of ids) {
      try {
        await this.editLock.runExclusive(`${kind}:${id}`, (lease) => settle(id, lease));
      } catch (error) {
        // A change of that document under way (it records the entry first) or the store away: the next sweep's.
        this.logger.warn(`the audit entry left on ${where}${kind} ${id} waits for the next sweep: ${String(error)}`);
      }
    }
  }
}
