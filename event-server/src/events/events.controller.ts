import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles } from '@reward/server-kit/auth.guards';
import { CommonErrorCode } from '@reward/server-kit/errors';
import { ApiEndpoint, ApiPageQuery } from '@reward/server-kit/openapi';
import { ParseObjectIdPipe } from '@reward/server-kit/object-id.pipe';
import type { Page } from '@reward/server-kit/pagination';
import { type AuthenticatedUser, Role } from '@reward/server-kit/roles';
import { startByOf } from '@reward/server-kit/start-by';
import { CreateEventDto } from './dto/create-event.dto.js';
import { EventDetailResponseDto, EventPageResponseDto, EventResponseDto } from './dto/event-response.dto.js';
import { ListEventsQueryDto } from './dto/list-events-query.dto.js';
import { UpdateEventDto } from './dto/update-event.dto.js';
import { EventErrorCode } from './event.errors.js';
import { rewardsFor } from '../rewards/reward.mapper.js';
import { EventsService } from './events.service.js';
import { PLAYER_READS, PLAYER_VIEW_READS } from '../player-reads/player-reads.js';

const INVALID_EVENT = [EventErrorCode.INVALID_PERIOD, EventErrorCode.INVALID_TIMEZONE, EventErrorCode.INVALID_CONDITION];

@ApiTags('events')
@Controller('events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Post()
  @HttpCode(201)
  @Roles(Role.OPERATOR)
  @ApiEndpoint({
    operationId: 'createEvent',
    summary: 'Create an event with its condition',
    description: 'Recorded in the audit log.',
    errors: { 400: INVALID_EVENT },
  })
  @ApiCreatedResponse({ type: EventResponseDto })
  create(@Body() body: CreateEventDto, @CurrentUser() actor: AuthenticatedUser): Promise<EventResponseDto> {
    return this.events.create(body, actor);
  }

  @Get()
  @ApiEndpoint({
    operationId: 'listEvents',
    summary: 'Events, newest first; filter by status or by an instant within their period',
    description: `A player asking for a page that is being read for another player (the same query) shares that read; a player's list at an instant (\`activeAt\`) shares one read of the events meeting that instant's second with the players asking about it meanwhile, each answered exactly for its own instant. ${PLAYER_READS}`,
    errors: { 429: [CommonErrorCode.TOO_MANY_REQUESTS] },
  })
  @ApiPageQuery()
  @ApiOkResponse({ type: EventPageResponseDto })
  list(@Query() query: ListEventsQueryDto, @CurrentUser() caller: AuthenticatedUser): Promise<Page<EventResponseDto>> {
    return this.events.list(query, caller);
  }

  @Get(':id')
  @ApiEndpoint({
    operationId: 'getEvent',
    summary: 'An event with its rewards',
    description: `A COUPON reward shows its \`couponCode\` to staff only (OPERATOR, AUDITOR, ADMIN). ${PLAYER_VIEW_READS}`,
    errors: { 404: [EventErrorCode.EVENT_NOT_FOUND], 429: [CommonErrorCode.TOO_MANY_REQUESTS] },
  })
  @ApiOkResponse({ type: EventDetailResponseDto })
  async get(
    @Param('id', ParseObjectIdPipe) id: string,
    @CurrentUser() caller: AuthenticatedUser,
  ): Promise<EventDetailResponseDto> {
    const event = await this.events.getWithRewards(id, caller);
    return { ...event, rewards: rewardsFor(caller, event.rewards) };
  }

  @Patch(':id')
  @Roles(Role.OPERATOR)
  @ApiEndpoint({
    operationId: 'updateEvent',
    summary: 'Change any fields of an event',
    description: 'The event as changed is checked as a whole (period, zone, condition). Recorded in the audit log.',
    // 503: another change to the same event held it for 5 s, or until this one's start-by time (EditLock); nothing
    // changed.
    errors: { 400: INVALID_EVENT, 404: [EventErrorCode.EVENT_NOT_FOUND], 503: [CommonErrorCode.SERVICE_UNAVAILABLE] },
  })
  @ApiOkResponse({ type: EventResponseDto })
  update(
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: UpdateEventDto,
    @CurrentUser() actor: AuthenticatedUser,
    @Req() request: FastifyRequest,
  ): Promise<EventResponseDto> {
    return this.events.update(id, body, actor, startByOf(request.headers));
  }
}
