import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AuditLogModule } from '../audit/audit-log.module.js';
import { PlayerReadsModule } from '../player-reads/player-reads.module.js';
import { EditLockModule } from '../edit-lock/edit-lock.module.js';
import { RewardStoreModule } from '../rewards/reward-store.module.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { EventCatalog } from './event-catalog.js';
import { EventRepository } from './event.repository.js';
import { EventEntity, EventSchema } from './event.schema.js';
import { EventsController } from './events.controller.js';
import { EventsService } from './events.service.js';
import { PendingAuditSweep } from './pending-audit.sweep.js';

/** Events: their routes, their data, and the catalog the claim and progress paths read them from. */
@Module({
  imports: [
    MongooseModule.forFeature([{ name: EventEntity.name, schema: EventSchema }]),
    RewardStoreModule,
    AuditLogModule,
    EditLockModule,
    PlayerReadsModule,
    // PendingAuditSweep records the entries left on endpoints too.
    WebhooksModule,
  ],
  controllers: [EventsController],
  providers: [EventRepository, EventsService, EventCatalog, PendingAuditSweep],
  exports: [EventRepository, EventCatalog],
})
export class EventsModule {}
