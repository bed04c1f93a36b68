import { Injectable } from '@nestjs/common';
import { DomainError } from '@reward/server-kit/errors';
import type { AuthenticatedUser } from '@reward/server-kit/roles';
import { AuditLogService, diffFields } from '../audit/audit-log.service.js';
import { EventErrorCode } from '../events/event.errors.js';
import { EventCatalog } from '../events/event-catalog.js';
import { EventRepository } from '../events/event.repository.js';
import { StockService } from '../stock/stock.service.js';
import type { CreateRewardDto } from './dto/create-reward.dto.js';
import { RewardRepository } from './reward.repository.js';
import { checkRewardCodes } from './reward.rules.js';
import { type RewardView, toRewardView } from './reward.view.js';

@Injectable()
export class RewardsService {
  constructor(
    private readonly rewards: RewardRepository,
    private readonly events: EventRepository,
    private readonly auditLog: AuditLogService,
    private readonly stock: StockService,
    private readonly catalog: EventCatalog,
  ) {}

  async create(eventId: string, input: CreateRewardDto, actor: AuthenticatedUser): Promise<RewardView> {
    checkRewardCodes(input);
    await this.requireEvent(eventId);
    const created = await this.rewards.create({
      eventId,
      type: input.type,
      name: input.name.trim(),
      quantity: input.quantity,
      ...(input.stock !== undefined && { stock: input.stock }),
      ...(input.itemCode !== undefined && { itemCode: input.itemCode }),
      ...(input.couponCode !== undefined && { couponCode: input.couponCode }),
    });
    this.catalog.invalidate(eventId);
    const view = toRewardView(created, 0);
    await this.auditLog.record({
      actorId: actor.id,
      action: 'REWARD_CREATED',
      targetType: 'REWARD',
      targetId: created.id,
      changes: diffFields(undefined, { ...view } as Record<string, unknown>, [
        'eventId',
        'type',
        'name',
        'quantity',
        'stock',
        'itemCode',
        'couponCode',
      ]),
    });
    return view;
  }

  /** The event's rewards with `remaining` derived from the units taken (stock minus units). */
  async listForEvent(eventId: string): Promise<RewardView[]> {
    const rewards = await this.rewards.findByEvent(eventId);
    const taken = await this.stock.takenCounts(rewards.filter((reward) => reward.stock !== undefined).map((reward) => reward.id));
    return rewards.map((reward) => toRewardView(reward, taken.get(reward.id) ?? 0));
  }

  async listForExistingEvent(eventId: string): Promise<RewardView[]> {
    await this.requireEvent(eventId);
    return this.listForEvent(eventId);
  }

  private async requireEvent(eventId: string): Promise<void> {
    if (!(await this.events.findById(eventId))) {
      throw new DomainError(404, EventErrorCode.EVENT_NOT_FOUND, `Event ${eventId} does not exist`);
    }
  }
}
