import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '@reward/server-kit/auth.guards';
import { ServiceTokenGuard } from '../common/service-token.guard.js';
import { AccessVersionRepository } from './access-version.repository.js';
import { AccessVersionNoticeDto } from './dto/access-version-notice.dto.js';

// Server-to-server only (the auth server's outbox; not routed by the gateway): not part of the public API document.
@ApiExcludeController()
@Controller('internal/access-versions')
export class InternalAccessVersionsController {
  constructor(private readonly versions: AccessVersionRepository) {}

  @Post()
  @HttpCode(201)
  @Public()
  @UseGuards(ServiceTokenGuard)
  async record(@Body() body: AccessVersionNoticeDto): Promise<{ inserted: boolean }> {
    const inserted = await this.versions.record({
      userId: body.userId,
      version: body.accessVersion,
      reason: body.reason,
      at: new Date(body.at),
    });
    return { inserted };
  }
}
