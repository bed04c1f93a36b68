import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles } from '@reward/server-kit/auth.guards';
import { ApiEndpoint } from '@reward/server-kit/openapi';
import { ParseObjectIdPipe } from '@reward/server-kit/object-id.pipe';
import { type AuthenticatedUser, Role } from '@reward/server-kit/roles';
import { EventErrorCode } from '../events/event.errors.js';
import { CreateRewardDto } from './dto/create-reward.dto.js';
import { RewardResponseDto } from './dto/reward-response.dto.js';
import { rewardsFor, seesExactStock } from './reward.mapper.js';
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
    },
  })
  @ApiCreatedResponse({ type: RewardResponseDto })
  add(
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: CreateRewardDto,
    @CurrentUser() actor: AuthenticatedUser,
  ): Promise<RewardResponseDto> {
    return this.rewards.create(id, body, actor);
  }

  @Get()
  @ApiEndpoint({
    operationId: 'listRewards',
    summary: "An event's rewards with their remaining stock, in creation order",
    description: 'A COUPON reward shows its `couponCode` to staff only (OPERATOR, AUDITOR, ADMIN).',
    errors: { 404: [EventErrorCode.EVENT_NOT_FOUND] },
  })
  @ApiOkResponse({ type: [RewardResponseDto] })
  async list(@Param('id', ParseObjectIdPipe) id: string, @CurrentUser() caller: AuthenticatedUser): Promise<RewardResponseDto[]> {
    return rewardsFor(caller, await this.rewards.listForExistingEvent(id, { exact: seesExactStock(caller) }));
  }
}
