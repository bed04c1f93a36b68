import { Global, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { CURRENT_ACCESS_CHECK } from '@reward/server-kit/auth.guards';
import { ServiceTokenGuard } from '../common/service-token.guard.js';
import { AccessVersionRepository } from './access-version.repository.js';
import { AccessVersionEntity, AccessVersionSchema } from './access-version.schema.js';
import { InternalAccessVersionsController } from './internal-access-versions.controller.js';
import { StaffAccessCheck } from './staff-access.check.js';

/**
 * The auth server's access-version notices, and the check every staff request passes: global, so that the
 * global RolesGuard (JwtAuthModule's) finds it under CURRENT_ACCESS_CHECK.
 */
@Global()
@Module({
  imports: [MongooseModule.forFeature([{ name: AccessVersionEntity.name, schema: AccessVersionSchema }])],
  controllers: [InternalAccessVersionsController],
  providers: [
    AccessVersionRepository,
    ServiceTokenGuard,
    StaffAccessCheck,
    { provide: CURRENT_ACCESS_CHECK, useExisting: StaffAccessCheck },
  ],
  exports: [CURRENT_ACCESS_CHECK],
})
export class StaffAccessModule {}
