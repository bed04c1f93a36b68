import { Controller, Get, Param, Query } from '@nestjs/common';
import { CurrentUser } from '@reward/server-kit/auth.guards';
import { ParseObjectIdPipe } from '@reward/server-kit/object-id.pipe';
import type { AuthenticatedUser } from '@reward/server-kit/roles';
import { ProgressQueryDto } from './progress-query.dto.js';
import { type ProgressView, ProgressService } from './progress.service.js';

@Controller('events')
export class ProgressController {
  constructor(private readonly progress: ProgressService) {}

  @Get(':id/progress')
  get(
    @Param('id', ParseObjectIdPipe) id: string,
    @Query() query: ProgressQueryDto,
    @CurrentUser() caller: AuthenticatedUser,
  ): Promise<ProgressView> {
    return this.progress.forCaller(id, caller, query.userId);
  }
}
