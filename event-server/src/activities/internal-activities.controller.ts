import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '@reward/server-kit/auth.guards';
import { ActivitiesService, type ImportResult } from './activities.service.js';
import { ActivityBatchDto } from './dto/activity-input.dto.js';
import { ServiceTokenGuard } from '../common/service-token.guard.js';

/**
 * Server-to-server ingestion (the auth server's outbox relay delivers LOGIN and FRIEND_INVITE here).
 * Not in the gateway's policy table, so it is unreachable from outside; and it needs a service token.
 */
// Server-to-server only (not routed by the gateway): not part of the public API document.
@ApiExcludeController()
@Controller('internal/activities')
export class InternalActivitiesController {
  constructor(private readonly activities: ActivitiesService) {}

  @Post()
  @HttpCode(201)
  @Public()
  @UseGuards(ServiceTokenGuard)
  record(@Body() body: ActivityBatchDto, @Req() request: { service: string }): Promise<ImportResult> {
    return this.activities.recordFromService(body.items, request.service);
  }
}
