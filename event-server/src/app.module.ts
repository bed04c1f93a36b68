import { type DynamicModule, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { JwksKeyResolver } from '@reward/server-kit/access-token';
import { JwtAuthModule } from '@reward/server-kit/jwt-auth.module';
import { EventConfigModule } from './config/config.module.js';
import type { EventConfig } from './config/event-config.js';
import { ActivitiesModule } from './activities/activities.module.js';
import { AuditLogModule } from './audit/audit-log.module.js';
import { ClaimsModule } from './claims/claims.module.js';
import { EventsModule } from './events/events.module.js';
import { DatabaseHealthModule } from '@reward/server-kit/database-health.module';
import { PayoutModule } from './payout/payout.module.js';
import { ProgressModule } from './progress/progress.module.js';
import { RewardsModule } from './rewards/rewards.module.js';
import { StaffAccessModule } from './staff-access/staff-access.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

@Module({})
export class AppModule {
  static forRoot(config: EventConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        EventConfigModule.forRoot(config),
        MongooseModule.forRoot(config.database.uri, {
          dbName: config.database.dbName,
          serverSelectionTimeoutMS: 5_000,
          // Each failed attempt's line says why (refused, timed out, authentication failed), not only that it failed.
          verboseRetryLog: true,
        }),
        JwtAuthModule.forRootAsync({
          useFactory: () => ({
            issuer: config.jwt.issuer,
            audience: config.jwt.audience,
            keys: new JwksKeyResolver(config.jwt.jwksUrl),
          }),
          // StaffAccessModule's check of staff tokens against the newest access version.
          requireCurrentAccessCheck: true,
        }),
        DatabaseHealthModule,
        AuditLogModule,
        EventsModule,
        RewardsModule,
        ActivitiesModule,
        ProgressModule,
        ClaimsModule,
        StaffAccessModule,
        WebhooksModule,
        PayoutModule,
      ],
    };
  }
}
