import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AuditLogModule } from '../audit/audit-log.module.js';
import { ClaimsModule } from '../claims/claims.module.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { ClaimLoad } from './claim-load.js';
import { ClaimPayoutService } from './claim-payout.service.js';
import { DeliveriesController, EndpointDeliveriesController } from './deliveries.controller.js';
import { DeliveriesService } from './deliveries.service.js';
import { DeliveryRepository } from './delivery.repository.js';
import {
  DeliveryAttemptLogEntity,
  DeliveryAttemptLogSchema,
  DeliveryEntity,
  DeliveryLeaseEntity,
  DeliveryLeaseSchema,
  DeliveryRetryEntity,
  DeliveryRetrySchema,
  DeliverySchema,
  DeliverySendRequestEntity,
  DeliverySendRequestSchema,
  PayoutSummaryLeaseEntity,
  PayoutSummaryLeaseSchema,
} from './delivery.schema.js';
import { PayoutAuditSweep } from './payout-audit.sweep.js';
import { PayoutBackfill } from './payout-backfill.service.js';
import { PayoutBackfillMarkRepository } from './payout-backfill-mark.repository.js';
import { PayoutBackfillMarkEntity, PayoutBackfillMarkSchema } from './payout-backfill-mark.schema.js';
import { PayoutOutboxRepository } from './payout-outbox.repository.js';
import { PayoutRelay } from './payout-relay.service.js';

/** Payout: the outbox (on claim decisions), its relay, the deliveries and their retry. */
@Module({
  imports: [
    MongooseModule.forFeature([
      { name: DeliveryEntity.name, schema: DeliverySchema },
      { name: DeliveryLeaseEntity.name, schema: DeliveryLeaseSchema },
      { name: DeliveryAttemptLogEntity.name, schema: DeliveryAttemptLogSchema },
      { name: DeliveryRetryEntity.name, schema: DeliveryRetrySchema },
      { name: DeliverySendRequestEntity.name, schema: DeliverySendRequestSchema },
      { name: PayoutSummaryLeaseEntity.name, schema: PayoutSummaryLeaseSchema },
      { name: PayoutBackfillMarkEntity.name, schema: PayoutBackfillMarkSchema },
    ]),
    ClaimsModule,
    WebhooksModule,
    AuditLogModule,
  ],
  controllers: [DeliveriesController, EndpointDeliveriesController],
  providers: [
    ClaimLoad,
    DeliveryRepository,
    PayoutOutboxRepository,
    ClaimPayoutService,
    DeliveriesService,
    PayoutRelay,
    PayoutBackfill,
    PayoutBackfillMarkRepository,
    PayoutAuditSweep,
  ],
})
export class PayoutModule {}
