import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { CurrentUser, Roles } from '@reward/server-kit/auth.guards';
import { ParseObjectIdPipe } from '@reward/server-kit/object-id.pipe';
import type { Page } from '@reward/server-kit/pagination';
import { type AuthenticatedUser, Role } from '@reward/server-kit/roles';
import { CreateRewardDto } from '../rewards/dto/create-reward.dto.js';
import type { RewardView } from '../rewards/reward.view.js';
import { RewardsService } from '../rewards/rewards.service.js';
import { CreateEventDto } from './dto/create-event.dto.js';
import { ListEventsQueryDto } from './dto/list-events-query.dto.js';
import { UpdateEventDto } from './dto/update-event.dto.js';
import type { EventView } from './event.view.js';
import { EventsService } from './events.service.js';

@Controller('events')
export class EventsController {
  constructor(
    private readonly events: EventsService,
    private readonly rewards: RewardsService,
  ) {}

  @Post()
  @HttpCode(201)
  @Roles(Role.OPERATOR)
  create(@Body() body: CreateEventDto, @CurrentUser() actor: AuthenticatedUser): Promise<EventView> {
    return this.events.create(body, actor);
  }

  @Get()
  list(@Query() query: ListEventsQueryDto): Promise<Page<EventView>> {
    return this.events.list(query);
  }

  @Get(':id')
  get(@Param('id', ParseObjectIdPipe) id: string): Promise<EventView> {
    return this.events.getWithRewards(id);
  }

  @Patch(':id')
  @Roles(Role.OPERATOR)
  update(
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: UpdateEventDto,
    @CurrentUser() actor: AuthenticatedUser,
  ): Promise<EventView> {
    return this.events.update(id, body, actor);
  }

  @Post(':id/rewards')
  @HttpCode(201)
  @Roles(Role.OPERATOR)
  addReward(
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: CreateRewardDto,
    @CurrentUser() actor: AuthenticatedUser,
  ): Promise<RewardView> {
    return this.rewards.create(id, body, actor);
  }

  @Get(':id/rewards')
  listRewards(@Param('id', ParseObjectIdPipe) id: string): Promise<RewardView[]> {
    return this.rewards.listForExistingEvent(id);
  }
}
