import { Body, Controller, Get, HttpCode, Param, Patch, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles } from '@reward/server-kit/auth.guards';
import { ApiEndpoint } from '@reward/server-kit/openapi';
import { ParseObjectIdPipe } from '@reward/server-kit/object-id.pipe';
import { type AuthenticatedUser, Role } from '@reward/server-kit/roles';
import { startByOf } from '@reward/server-kit/start-by';
import { CommonErrorCode } from '@reward/server-kit/errors';
import { PLAYER_VIEW_READS } from '../player-reads/player-reads.js';
import { EventErrorCode } from '../events/event.errors.js';
import { CreateRewardDto } from './dto/create-reward.dto.js';
import { RewardResponseDto } from './dto/reward-response.dto.js';
import { UpdateRewardDto } from './dto/update-reward.dto.js';
import { rewardsFor } from './reward.mapper.js';
import { MAX_REWARDS_PER_EVENT, RewardsService } from './rewards.service.js';

// A reward exists only inside its event: the routes are the event's, and so is the OpenAPI tag.
@ApiTags('events')
@Controller('events/:id/rewards')
export class RewardsController {
  constructor(private readonly rewards: RewardsService) {}

  @Post()
  @HttpCode(201)
  @Roles(Role.OPERATOR)
  @ApiEndpoint({
    operationId: 'addReward',
    summary: 'Add a reward to an event',
    description:
      `ITEM rewards need \`itemCode\`, COUPON rewards \`couponCode\`. An event has at most ${MAX_REWARDS_PER_EVENT} ` +
      'rewards (409 TOO_MANY_REWARDS). Recorded in the audit log.',
    errors: {
      400: [EventErrorCode.INVALID_REWARD],
      404: [EventErrorCode.EVENT_NOT_FOUND],
      409: [EventErrorCode.TOO_MANY_REWARDS],
      503: ['SERVICE_UNAVAILABLE'],
    },
  })
  @ApiCreatedResponse({ type: RewardResponseDto })
  add(
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: CreateRewardDto,
    @CurrentUser() actor: AuthenticatedUser,
    @Req() request: FastifyRequest,
  ): Promise<RewardResponseDto> {
    return this.rewards.create(id, body, actor, startByOf(request.headers));
  }

  @Patch(':rewardId')
  @Roles(Role.OPERATOR)
  @ApiEndpoint({
    operationId: 'updateReward',
    summary: "Change a reward's name, quantity or code, or raise its stock",
    description:
      'Any subset of `name`, `quantity`, `itemCode` / `couponCode` (as its type takes) and, for a limited reward, a ' +
      '`stock` at least what it is now (a top-up: claims refused OUT_OF_STOCK may claim again). Lowering the stock, ' +
      'a stock on an unlimited reward and another type are refused (400 INVALID_REWARD). A claim keeps the reward ' +
      'as it was when it was made. Recorded in the audit log (REWARD_UPDATED); other replicas see it within ' +
      'CLAIM_CATALOG_TTL_MS. Answered with `remaining` counted after the write: should that count take longer than ' +
      'LIST_READ_MAX_MS, the answer is 503 SERVICE_UNAVAILABLE saying the reward was changed.',
    errors: {
      400: [EventErrorCode.INVALID_REWARD],
      404: [EventErrorCode.EVENT_NOT_FOUND, EventErrorCode.REWARD_NOT_FOUND],
      503: ['SERVICE_UNAVAILABLE'],
    },
  })
  @ApiOkResponse({ type: RewardResponseDto })
  update(
    @Param('id', ParseObjectIdPipe) id: string,
    @Param('rewardId', ParseObjectIdPipe) rewardId: string,
    @Body() body: UpdateRewardDto,
    @CurrentUser() actor: AuthenticatedUser,
    @Req() request: FastifyRequest,
  ): Promise<RewardResponseDto> {
    return this.rewards.update(id, rewardId, body, actor, startByOf(request.headers));
  }

  @Get()
  @ApiEndpoint({
    operationId: 'listRewards',
    summary: "An event's rewards with their remaining stock, in creation order",
    description: `A COUPON reward shows its \`couponCode\` to staff only (OPERATOR, AUDITOR, ADMIN). ${PLAYER_VIEW_READS}`,
    errors: { 404: [EventErrorCode.EVENT_NOT_FOUND], 429: [CommonErrorCode.TOO_MANY_REQUESTS] },
  })
  @ApiOkResponse({ type: [RewardResponseDto] })
  async list(@Param('id', ParseObjectIdPipe) id: string, @CurrentUser() caller: AuthenticatedUser): Promise<RewardResponseDto[]> {
    return rewardsFor(caller, await this.rewards.listForExistingEvent(id, caller));
  }
}
