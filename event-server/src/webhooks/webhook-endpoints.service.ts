import { Inject, Injectable } from '@nestjs/common';
import { AuditAction } from '@reward/server-kit/audit-actions';
import { DomainError } from '@reward/server-kit/errors';
import { type Page, skipOf } from '@reward/server-kit/pagination';
import type { AuthenticatedUser } from '@reward/server-kit/roles';
import { AuditLogService, diffFields, pendingAudit, recordPendingAudit } from '../audit/audit-log.service.js';
import { SYSTEM_ACTOR } from '../claims/claim.js';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { EditLock } from '../edit-lock/edit-lock.js';
import type { CreateWebhookEndpointDto, UpdateWebhookEndpointDto } from './dto/webhook-endpoint-input.dto.js';
import { WebhookEndpointDirectory } from './webhook-endpoint.directory.js';
import { type WebhookEndpointRecord, disablingAt, enablingAt, eventsSinceAt } from './webhook-endpoint.js';
import { WebhookEndpointRepository } from './webhook-endpoint.repository.js';
import type { WebhookEndpointResponseDto } from './dto/webhook-endpoint-response.dto.js';
import { toWebhookEndpointResponse } from './webhook-endpoint.mapper.js';
import { WebhookErrorCode, webhookEndpointLimit, webhookEndpointNotFound } from './webhook.errors.js';
import { WEBHOOK_ENDPOINT_AUDIT_TARGET, checkWebhookUrl, withAuditedUrls } from './webhook-url.rules.js';
import { newWebhookSecret, previousSecrets, rotate } from './webhook-secret.js';

const TARGET = WEBHOOK_ENDPOINT_AUDIT_TARGET;
const AUDITED = ['url', 'events', 'description', 'enabled'] as const;

/**
 * Endpoints managed by ADMIN: every change audited (never with the secret in it). `startBy` on an ADMIN's change:
 * the request's start-by time (startByOf), which bounds its waits (the URL's lookup, the endpoint's EditLock): past
 * it nothing is written (503), since the gateway may have stopped waiting for the answer.
 */
@Injectable()
export class WebhookEndpointsService {
  constructor(
    @Inject(EVENT_CONFIG) private readonly config: EventConfig,
    private readonly repository: WebhookEndpointRepository,
    private readonly directory: WebhookEndpointDirectory,
    private readonly audit: AuditLogService,
    private readonly editLock: EditLock,
  ) {}

  async create(
    input: CreateWebhookEndpointDto,
    actor: AuthenticatedUser,
    startBy?: number,
  ): Promise<WebhookEndpointResponseDto & { secret: string }> {
    await this.checkUrl(input.url);
    const now = new Date();
    const secret = newWebhookSecret();
    const fields = {
      url: input.url,
      events: input.events,
      ...(input.description !== undefined && { description: input.description }),
      enabled: true,
      enabledAt: now,
      enablings: [now],
      secrets: [{ value: secret, createdAt: now }],
      createdBy: actor.id,
      createdAt: now,
      updatedAt: now,
    };
    // Every grant is recorded and sent once per subscribed endpoint, so how many may exist is bounded
    // (WEBHOOK_ENDPOINTS_MAX): counted and inserted under one lock for every creation, since two creations at once
    // would each count the one place left. The entry rides on the insert (PendingAudit), recorded under the
    // endpoint's edit lock as a change's is: one the store failed to record is recorded by the endpoint's next change
    // or PendingAuditSweep, not lost for good.
    const endpoint = await this.editLock.runExclusive(
      CREATION_LOCK,
      async (lease) => {
        if ((await this.repository.count()) >= this.config.payout.maxEndpoints) {
          throw webhookEndpointLimit(this.config.payout.maxEndpoints);
        }
        lease.assertHeld();
        return this.repository.insert(fields, (id) =>
          this.entry(actor.id, AuditAction.WEBHOOK_ENDPOINT_CREATED, id, diffFields(undefined, pick({ ...fields, id }))),
        );
      },
      { startBy },
    );
    await this.editLock.runExclusive(lockKey(endpoint.id), (lease) =>
      recordPendingAudit(endpoint, this.audit, this.repository, lease),
    );
    await this.directory.refresh();
    return { ...toWebhookEndpointResponse(endpoint), secret };
  }

  async list(page: { page: number; limit: number }): Promise<Page<WebhookEndpointResponseDto>> {
    const { items, total } = await this.repository.findPage(skipOf(page), page.limit);
    return { items: items.map((endpoint) => toWebhookEndpointResponse(endpoint)), page: page.page, limit: page.limit, total };
  }

  async get(id: string): Promise<WebhookEndpointResponseDto> {
    return toWebhookEndpointResponse(await this.found(id));
  }

  /**
   * Settings, secrets and removal change an endpoint one at a time (EditLock): two rotations at once would each
   * write back their own secret list, and the secret handed to one of the admins would never sign anything.
   */
  async update(
    id: string,
    input: UpdateWebhookEndpointDto,
    actor: AuthenticatedUser,
    startBy?: number,
  ): Promise<WebhookEndpointResponseDto> {
    if (input.url !== undefined) await this.checkUrl(input.url);
    return this.editLock.runExclusive(
      lockKey(id),
      async (lease) => {
        const before = await this.found(id);
        // A change before this one whose entry was not recorded (see PendingAudit): recorded first, in order.
        await recordPendingAudit(before, this.audit, this.repository, lease);
        // Saving the values it has is no change, as for an event: nothing written (updatedAt stays), nothing audited.
        const changes = diffFields(pick(before), pick({ ...before, ...input }));
        if (Object.keys(changes).length === 0) {
          return toWebhookEndpointResponse(before);
        }
        lease.assertHeld();
        const now = new Date();
        // Only a change of state moves these: saving an enabled endpoint again must not restart its back-fill.
        const enabling = input.enabled === true && !before.enabled;
        const disabling = input.enabled === false && before.enabled;
        // An event type taken is received from now on (eventsSince), the others as before: the back-fill covers
        // what a replica whose copy still has the old list records meanwhile, and what it owes of the types taken
        // before still counts from the enabling (moving enabledAt skipped those for a replica starting later).
        const eventsChange =
          input.events !== undefined || enabling ? eventsSinceAt(before, input.events ?? before.events, now, { enabling }) : {};
        const entry = this.entry(actor.id, AuditAction.WEBHOOK_ENDPOINT_UPDATED, id, changes);
        const updated = await this.repository.update(
          id,
          {
            ...input,
            ...(input.enabled === true && { disabledReason: null }),
            ...(enabling && { enabledAt: now }),
            ...eventsChange,
            ...(disabling && disablingAt(before, now)),
            ...(enabling && enablingAt(before, now)),
          },
          entry,
        );
        if (!updated) throw webhookEndpointNotFound(id);
        await this.directory.changed(id, updated);
        await recordPendingAudit(updated, this.audit, this.repository, lease);
        return toWebhookEndpointResponse(updated);
      },
      { startBy },
    );
  }

  async rotateSecret(
    id: string,
    actor: AuthenticatedUser,
    startBy?: number,
  ): Promise<WebhookEndpointResponseDto & { secret: string }> {
    return this.editLock.runExclusive(
      lockKey(id),
      async (lease) => {
        const before = await this.found(id);
        await recordPendingAudit(before, this.audit, this.repository, lease);
        const now = new Date();
        const secrets = rotate(before.secrets, now);
        const previousUntil = previousSecrets(secrets, now)[0]?.expiresAt?.toISOString() ?? null;
        const entry = this.entry(actor.id, AuditAction.WEBHOOK_SECRET_ROTATED, id, { previousSecretExpiresAt: previousUntil });
        lease.assertHeld();
        const updated = await this.repository.update(id, { secrets }, entry);
        if (!updated) throw webhookEndpointNotFound(id);
        await this.directory.changed(id, updated);
        await recordPendingAudit(updated, this.audit, this.repository, lease);
        return { ...toWebhookEndpointResponse(updated, now), secret: (secrets[0] as { value: string }).value };
      },
      { startBy },
    );
  }

  /**
   * The relay's: a receiver that answered 410 Gone gets nothing more until an ADMIN enables it again. Audited
   * as the system's change (once, when it turns the endpoint off), so the log explains an ADMIN's later re-enable.
   * `sentTo`: the url that answered; an endpoint moved to another url since keeps receiving (the answer was the
   * old address's).
   */
  async disable(id: string, reason: string, sentTo?: string): Promise<void> {
    await this.editLock.runExclusive(lockKey(id), async (lease) => {
      const before = await this.repository.findById(id);
      if (before) await recordPendingAudit(before, this.audit, this.repository, lease);
      if (!before?.enabled) return;
      if (sentTo !== undefined && before.url !== sentTo) return;
      const changes = diffFields({ ...before }, { ...before, enabled: false, disabledReason: reason }, [
        'enabled',
        'disabledReason',
      ]);
      const entry = this.entry(SYSTEM_ACTOR, AuditAction.WEBHOOK_ENDPOINT_UPDATED, id, changes);
      lease.assertHeld();
      const updated = await this.repository.update(
        id,
        { enabled: false, disabledReason: reason, ...disablingAt(before, new Date()) },
        entry,
      );
      if (!updated) return;
      await recordPendingAudit(updated, this.audit, this.repository, lease);
    });
  }

  async remove(id: string, actor: AuthenticatedUser, startBy?: number): Promise<void> {
    await this.editLock.runExclusive(
      lockKey(id),
      async (lease) => {
        lease.assertHeld();
        const endpoint = await this.repository.findById(id);
        if (!endpoint) {
          // Deleted already: by this same removal sent again, perhaps, whose entry was never recorded.
          await settleRemovalAudit(id, this.repository, this.audit, lease);
          throw webhookEndpointNotFound(id);
        }
        const entry = this.entry(actor.id, AuditAction.WEBHOOK_ENDPOINT_DELETED, id, diffFields(pick(endpoint), {}, AUDITED));
        const deleted = await this.repository.delete(id, entry);
        if (!deleted) throw webhookEndpointNotFound(id);
        await this.directory.changed(id, null);
        await recordPendingAudit({ id, pendingAudit: entry }, this.audit, removalAudits(this.repository), lease);
      },
      { startBy },
    );
  }

  private async checkUrl(url: string): Promise<void> {
    const problem = await checkWebhookUrl(url, this.config.payout.allowPrivateNetworks);
    if (!problem) return;
    const code = problem.kind === 'refused' ? WebhookErrorCode.WEBHOOK_URL_REFUSED : WebhookErrorCode.INVALID_WEBHOOK_URL;
    throw new DomainError(400, code, problem.message);
  }

  private async found(id: string): Promise<WebhookEndpointRecord> {
    const endpoint = await this.repository.findById(id);
    if (!endpoint) throw webhookEndpointNotFound(id);
    return endpoint;
  }

  /** A change's entry to write with it (PendingAudit): its URL as the audit log shows one (withAuditedUrls). */
  private entry(actorId: string, action: AuditAction, targetId: string, changes: Record<string, unknown>) {
    return pendingAudit({ actorId, action, targetType: TARGET, targetId, changes: withAuditedUrls(changes) });
  }
}

/** The lock every creation of an endpoint takes (see create). */
const CREATION_LOCK = 'webhook-endpoints:create';

function lockKey(id: string): string {
  return `webhook-endpoint:${id}`;
}

/** Taking a deletion's entry off the endpoint's removal, as recordPendingAudit takes a change's off its document. */
function removalAudits(repository: WebhookEndpointRepository) {
  return { clearPendingAudit: (id: string, key: string) => repository.clearRemovalAudit(id, key) };
}

/**
 * Records the deletion's audit entry still on an endpoint's removal (its delete wrote the removal, then failed or
 * died before the entry was recorded), once (its key); if the endpoint is still there, the delete never happened
 * and the entry is void: taken off unrecorded. Under the endpoint's edit lock (`lease`): the removal sent again,
 * or PendingAuditSweep.
 */
export async function settleRemovalAudit(
  id: string,
  repository: WebhookEndpointRepository,
  auditLog: AuditLogService,
  lease: { assertHeld(): void },
): Promise<void> {
  const pending = await repository.findRemovalAudit(id);
  if (!pending) return;
  if (await repository.findById(id)) {
    lease.assertHeld();
    await repository.clearRemovalAudit(id, pending.key);
    return;
  }
  await recordPendingAudit({ id, pendingAudit: pending }, auditLog, removalAudits(repository), lease);
}

function pick(endpoint: WebhookEndpointRecord): Record<string, unknown> {
  return { url: endpoint.url, events: endpoint.events, description: endpoint.description, enabled: endpoint.enabled };
}
