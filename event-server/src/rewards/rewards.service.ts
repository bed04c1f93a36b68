import { Injectable } from '@nestjs/common';
import { AuditAction, AuditTargetType } from '@reward/server-kit/audit-actions';
import { DomainError } from '@reward/server-kit/errors';
import type { AuthenticatedUser } from '@reward/server-kit/roles';
import { PlayerReads } from '../player-reads/player-reads.js';
import { refuseWriteAfterStartBy } from '@reward/server-kit/start-by';
import { AuditLogService, diffFields, pendingAudit, recordPendingAudit } from '../audit/audit-log.service.js';
import { EventErrorCode } from '../events/event.errors.js';
import { EventCatalog } from '../events/event-catalog.js';
import type { EventRecord } from '../events/event.js';
import { EventRepository } from '../events/event.repository.js';
import { EditLock } from '../edit-lock/edit-lock.js';
import { StockService } from '../stock/stock.service.js';
import type { CreateRewardDto } from './dto/create-reward.dto.js';
import type { UpdateRewardDto } from './dto/update-reward.dto.js';
import { RewardRepository } from './reward.repository.js';
import { checkRewardCodes, checkStockChange } from './reward.rules.js';
import { RewardListing } from './reward-listing.js';
import type { RewardResponseDto } from './dto/reward-response.dto.js';
import { seesExactStock, toRewardResponse } from './reward.mapper.js';

/**
 * The most rewards an event may have: every claim copies them all and an event is shown with all of them,
 * so their number bounds what each claim costs (500 made a claim take 0.8 s and answer 41 KB).
 */
export const MAX_REWARDS_PER_EVENT = 20;

const rewardNotFound = (eventId: string, rewardId: string): DomainError =>
  new DomainError(404, EventErrorCode.REWARD_NOT_FOUND, `Reward ${rewardId} of event ${eventId} does not exist`);

/**
 * A 503 of the view read after a reward's change was written (its units' count stopped past LIST_READ_MAX_MS), told
 * as what it is: the change stands, its `remaining` was not counted; any other failure as it is.
 */
const changedUncounted = (error: unknown): unknown =>
  error instanceof DomainError && error.status === 503
    ? new DomainError(
        503,
        error.code,
        'The reward was changed, but counting its taken units for `remaining` took longer than the server spends on ' +
          'one read (LIST_READ_MAX_MS): read it again later (GET /events/{id}/rewards); sending the same change again ' +
          'changes nothing more',
        error.details,
      )
    : error;

const tooManyRewards = (): DomainError =>
  new DomainError(
    409,
    EventErrorCode.TOO_MANY_REWARDS,
    `An event has at most ${MAX_REWARDS_PER_EVENT} rewards; this one has them all`,
  );

@Injectable()
export class RewardsService {
  constructor(
    private readonly rewards: RewardRepository,
    private readonly events: EventRepository,
    private readonly auditLog: AuditLogService,
    private readonly listing: RewardListing,
    private readonly catalog: EventCatalog,
    private readonly editLock: EditLock,
    private readonly stock: StockService,
    private readonly playerReads: PlayerReads,
  ) {}

  /**
   * `startBy`: the request's start-by time (startByOf). The wait to name the author (the event's EditLock) ends at
   * it, and past it nothing is created (503): the gateway may have stopped waiting for the answer.
   */
  async create(eventId: string, input: CreateRewardDto, actor: AuthenticatedUser, startBy?: number): Promise<RewardResponseDto> {
    checkRewardCodes(input);
    const event = await this.requireEvent(eventId);
    // An event already full of rewards is refused before its author is named (two creates racing for its last
    // place may leave the loser named: on the safe side); then named before the reward can be seen.
    const counted = await this.rewards.countInEvent(eventId);
    if (counted >= MAX_REWARDS_PER_EVENT) throw tooManyRewards();
    await this.noteEditor(event, actor.id, startBy);
    // Named but past its time (the event's lock was held): on the safe side, as above, and nothing created.
    refuseWriteAfterStartBy(startBy);
    const fields = {
      eventId,
      type: input.type,
      name: input.name.trim(),
      quantity: input.quantity,
      ...(input.stock !== undefined && { stock: input.stock }),
      ...(input.itemCode !== undefined && { itemCode: input.itemCode }),
      ...(input.couponCode !== undefined && { couponCode: input.couponCode }),
    };
    // The REWARD_CREATED entry rides on the insert (PendingAudit) and is recorded under the reward's edit lock, as a
    // change's is: one the store failed to record (a 503 or a 500) is recorded by the reward's next change, before
    // it, or by PendingAuditSweep. Before, the reward stood with no entry for good.
    const created = await this.rewards.create(fields, MAX_REWARDS_PER_EVENT, counted, (id) =>
      pendingAudit({
        actorId: actor.id,
        action: AuditAction.REWARD_CREATED,
        targetType: AuditTargetType.REWARD,
        targetId: id,
        changes: diffFields(undefined, { ...toRewardResponse({ ...fields, id, createdAt: new Date() }, 0) }, [
          'eventId',
          'type',
          'name',
          'quantity',
          'stock',
          'itemCode',
          'couponCode',
        ]),
      }),
    );
    if (!created) throw tooManyRewards();
    this.catalog.invalidate(eventId);
    await this.editLock.runExclusive(`reward:${created.id}`, (lease) =>
      recordPendingAudit(created, this.auditLog, this.rewards, lease),
    );
    return toRewardResponse(created, 0);
  }

  /**
   * Changes a reward's name, quantity or codes, or raises a limited reward's stock (a top-up of a sold-out
   * reward, a wrong coupon code): one change at a time per reward (EditLock), audited with what changed. A claim
   * keeps the reward as it was when it was made. Lowering the stock is refused (units granted stay granted, and
   * counting them is what the claim path never does), so is a stock on an unlimited reward, and a code its type
   * does not take. This server answers with the change at once; another replica within CLAIM_CATALOG_TTL_MS.
   * `startBy`: the request's start-by time (startByOf). Both waits for a lock (the reward's, then the event's to
   * name the author) end at it, and the reward is not written past it (503, unchanged): a change made later
   * could be one the client was told 504 of, seconds before (three operators topping up one reward during a
   * claim burst saw that).
   */
  async update(
    eventId: string,
    rewardId: string,
    patch: UpdateRewardDto,
    actor: AuthenticatedUser,
    startBy?: number,
  ): Promise<RewardResponseDto> {
    const event = await this.requireEvent(eventId);
    let written = false;
    await this.editLock.runExclusive(
      `reward:${rewardId}`,
      async (lease) => {
        const existing = await this.rewards.findInEvent(eventId, rewardId);
        if (!existing) throw rewardNotFound(eventId, rewardId);
        // A change before this one whose entry was not recorded (see PendingAudit): recorded first, in order.
        await recordPendingAudit(existing, this.auditLog, this.rewards, lease);
        checkStockChange(existing.stock, patch.stock);
        checkRewardCodes({
          type: existing.type,
          itemCode: patch.itemCode ?? existing.itemCode,
          couponCode: patch.couponCode ?? existing.couponCode,
        });
        const fields = {
          ...(patch.name !== undefined && { name: patch.name.trim() }),
          ...(patch.quantity !== undefined && { quantity: patch.quantity }),
          ...(patch.stock !== undefined && { stock: patch.stock }),
          ...(patch.itemCode !== undefined && { itemCode: patch.itemCode }),
          ...(patch.couponCode !== undefined && { couponCode: patch.couponCode }),
        };
        const audited: Array<keyof typeof fields> = ['name', 'quantity', 'stock', 'itemCode', 'couponCode'];
        const changes = diffFields(
          existing as unknown as Record<string, unknown>,
          { ...existing, ...fields } as unknown as Record<string, unknown>,
          audited,
        );
        if (Object.keys(changes).length > 0) {
          await this.noteEditor(event, actor.id, startBy);
          lease.assertHeld();
          const entry = pendingAudit({
            actorId: actor.id,
            action: AuditAction.REWARD_UPDATED,
            targetType: AuditTargetType.REWARD,
            targetId: rewardId,
            changes,
          });
          const updated = await this.rewards.update(rewardId, fields, entry);
          if (!updated) throw rewardNotFound(eventId, rewardId);
          written = true;
          this.catalog.invalidate(eventId);
          // This process believed the old stock sold out: it looks again now (another replica once it reads the
          // larger stock with the event, within CLAIM_CATALOG_TTL_MS).
          if (changes.stock !== undefined) this.stock.reopened([rewardId]);
          await recordPendingAudit(updated, this.auditLog, this.rewards, lease);
        }
      },
      { startBy },
    );
    // The reward as it is now, with its remaining stock (read after the lock is given back). A count the store
    // stopped (LIST_READ_MAX_MS) is a 503 whose own message says nothing was changed: not so once this one is.
    let listed: RewardResponseDto[];
    try {
      listed = await this.listing.forEvent(eventId, { exact: true });
    } catch (error) {
      throw written ? changedUncounted(error) : error;
    }
    const view = listed.find((reward) => reward.id === rewardId);
    if (!view) throw rewardNotFound(eventId, rewardId);
    return view;
  }

  /**
   * Read now for staff (seesExactStock), from the event catalog for a player (see EventsService.getWithRewards; a read the
   * catalog makes for it counts among the player's reads).
   */
  async listForExistingEvent(eventId: string, caller: AuthenticatedUser): Promise<RewardResponseDto[]> {
    const exact = seesExactStock(caller);
    if (!exact) {
      const { rewards } = await this.catalog.requireReading(eventId, (read) => this.playerReads.run(caller, read));
      return this.listing.of(rewards, { exact });
    }
    await this.requireEvent(eventId);
    return this.listing.forEvent(eventId, { exact });
  }

  /** The event, or a 404. */
  private async requireEvent(eventId: string): Promise<EventRecord> {
    const event = await this.events.findById(eventId);
    if (!event) throw new DomainError(404, EventErrorCode.EVENT_NOT_FOUND, `Event ${eventId} does not exist`);
    return event;
  }

  /**
   * Names `editorId`, who is about to change one of the event's rewards (the change decided, just before it is
   * written), among the event's editors, under the event's edit lock as its own changes are: no claim sees the
   * change before it sees them as an editor (see EventRecord.editorIds and EventCatalog's load). `startBy`: the
   * request's, which bounds the wait for the event's lock (a 503 then, nothing written).
   */
  private async noteEditor(event: EventRecord, editorId: string, startBy: number | undefined): Promise<void> {
    if (event.editorIds.includes(editorId)) return;
    await this.editLock.runExclusive(
      `event:${event.id}`,
      async (lease) => {
        lease.assertHeld();
        await this.events.addEditor(event.id, editorId);
      },
      { startBy },
    );
    this.catalog.invalidate(event.id);
  }
}
