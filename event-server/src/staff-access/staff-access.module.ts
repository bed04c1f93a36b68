import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { MongooseModule } from '@nestjs/mongoose';
import { ServiceTokenGuard } from '../common/service-token.guard.js';
import { AccessVersionRepository } from './access-version.repository.js';
import { AccessVersionEntity, AccessVersionSchema } from './access-version.schema.js';
import { InternalAccessVersionsController } from './internal-access-versions.controller.js';
import { StaffAccessInterceptor } from './staff-access.interceptor.js';

/** The auth server's access-version notices, and the check every staff write passes. */
@Module({
  imports: [MongooseModule.forFeature([{ name: AccessVersionEntity.name, schema: AccessVersionSchema }])],
  controllers: [InternalAccessVersionsController],
  providers: [AccessVersionRepository, ServiceTokenGuard, { provide: APP_INTERCEPTOR, useClass: StaffAccessInterceptor }],
})
export class StaffAccessModule {}
