import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '@reward/server-kit/auth.guards';
import { CommonErrorCode } from '@reward/server-kit/errors';
import { ApiEndpoint } from '@reward/server-kit/openapi';
import { ParseObjectIdPipe } from '@reward/server-kit/object-id.pipe';
import type { AuthenticatedUser } from '@reward/server-kit/roles';
import { EventErrorCode } from '../events/event.errors.js';
import { ProgressQueryDto } from './progress-query.dto.js';
import { ProgressResponseDto } from './progress-response.dto.js';
import { type ProgressView, ProgressService } from './progress.service.js';

@ApiTags('events')
@Controller('events')
export class ProgressController {
  constructor(private readonly progress: ProgressService) {}

  @Get(':id/progress')
  @ApiEndpoint({
    operationId: 'getProgress',
    summary: "How far a player is with an event's condition (a dry run of the claim check)",
    description:
      "The caller's progress; `userId` of another user needs OPERATOR or ADMIN (403 otherwise). One player's requests " +
      'for one event made while its read runs share that read. 503 PROGRESS_BUSY with `Retry-After` when the server ' +
      'is already making as many progress reads as it can (PROGRESS_MAX_IN_FLIGHT): nothing was read; retry then. ' +
      '429 TOO_MANY_REQUESTS with `Retry-After` when the server is already reading as many progress checks (of other ' +
      'events) for this caller as it makes at once for one caller (PROGRESS_PLAYER_MAX_IN_FLIGHT, 2): nothing was ' +
      "read; retry then. An operator's checks of a player count as the operator's.",
    errors: {
      403: [CommonErrorCode.FORBIDDEN],
      404: [EventErrorCode.EVENT_NOT_FOUND],
      429: [CommonErrorCode.TOO_MANY_REQUESTS],
      503: ['PROGRESS_BUSY', 'SERVICE_UNAVAILABLE'],
    },
  })
  @ApiOkResponse({ type: ProgressResponseDto })
  get(
    @Param('id', ParseObjectIdPipe) id: string,
    @Query() query: ProgressQueryDto,
    @CurrentUser() caller: AuthenticatedUser,
  ): Promise<ProgressView> {
    return this.progress.forCaller(id, caller, query.userId);
  }
}
