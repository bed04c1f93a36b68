import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { isStoreUnavailable } from '@reward/server-kit/store-unavailable';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { EditLock } from '../edit-lock/edit-lock.js';
import { AuditLogService, type PendingAudit, recordPendingAudit } from '../audit/audit-log.service.js';
import { RewardRepository } from '../rewards/reward.repository.js';
import { WebhookEndpointRepository } from '../webhooks/webhook-endpoint.repository.js';
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
export class PendingAuditSweep implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PendingAuditSweep.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    @Inject(EVENT_CONFIG) private readonly config: EventConfig,
    private readonly events: EventRepository,
    private readonly rewards: RewardRepository,
    private readonly webhookEndpoints: WebhookEndpointRepository,
    private readonly auditLog: AuditLogService,
    private readonly editLock: EditLock,
  ) {}

  onApplicationBootstrap(): void {
    void this.sweepInBackground();
    const every = this.config.claims.reconcileIntervalMs;
    if (every > 0) this.timer = setInterval(() => void this.sweepInBackground(), every).unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /**
   * A whole sweep that starts after this call (after the one under way, if any, which may have listed the documents
   * before the latest were left so).
   */
  sweep(): Promise<void> {
    const next = (this.running ?? Promise.resolve()).catch(() => undefined).then(() => this.sweepOnce());
    const settled = next.finally(() => {
      if (this.running === settled) this.running = undefined;
    });
    this.running = settled;
    return settled;
  }

  private async sweepInBackground(): Promise<void> {
    // One at a time: a timer's sweep while one is under way would only repeat it.
    if (this.running) return;
    try {
      await this.sweep();
    } catch (error) {
      if (isStoreUnavailable(error)) this.logger.warn(`pending audit sweep failed, tried again later: ${String(error)}`);
      else this.logger.error({ err: error }, 'pending audit sweep failed');
    }
  }

  private async sweepOnce(): Promise<void> {
    await this.sweepOf('event', this.events);
    await this.sweepOf('reward', this.rewards);
    await this.sweepOf('webhook-endpoint', this.webhookEndpoints);
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
    for (const id of await store.findIdsWithPendingAudit(SWEEP_BATCH)) {
      try {
        await this.editLock.runExclusive(`${kind}:${id}`, async (lease) => {
          const document = await store.findById(id);
          if (document) await recordPendingAudit(document, this.auditLog, store, lease);
        });
      } catch (error) {
        // A change of that document under way (it records the entry first) or the store away: the next sweep's.
        this.logger.warn(`the audit entry left on ${kind} ${id} waits for the next sweep: ${String(error)}`);
      }
    }
  }
}
