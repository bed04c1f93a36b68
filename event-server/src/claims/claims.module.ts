import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AuditLogModule } from '../audit/audit-log.module.js';
import { PlayerReadsModule } from '../player-reads/player-reads.module.js';
import { EventsModule } from '../events/events.module.js';
import { IdempotencyModule } from '../idempotency/idempotency.module.js';
import { ProgressModule } from '../progress/progress.module.js';
import { StockModule } from '../stock/stock.module.js';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { ClaimDecisionRepository } from './claim-decision.repository.js';
import { ClaimDecisionEntity, ClaimDecisionSchema } from './claim-decision.schema.js';
import { ClaimDecisionsService } from './claim-decisions.service.js';
import { ClaimFaults } from './claim-faults.js';
import { PayoutSummaries } from './payout-summaries.js';
import { ClaimHistoryService } from './claim-history.service.js';
import { ClaimReconciler } from './claim-reconciler.service.js';
import { ClaimRepository } from './claim.repository.js';
import { ClaimReviewService } from './claim-review.service.js';
import { ClaimEntity, ClaimSchema } from './claim.schema.js';
import { ClaimsController, EventClaimsController } from './claims.controller.js';
import { ClaimsService } from './claims.service.js';

/** Reward claims: the claim path, review, history, export and the reconciler. Stock is StockModule's. */
@Module({
  imports: [
    MongooseModule.forFeature([
      { name: ClaimEntity.name, schema: ClaimSchema },
      { name: ClaimDecisionEntity.name, schema: ClaimDecisionSchema },
    ]),
    EventsModule,
    ProgressModule,
    AuditLogModule,
    IdempotencyModule,
    WebhooksModule,
    StockModule,
    PlayerReadsModule,
  ],
  controllers: [EventClaimsController, ClaimsController],
  providers: [
    ClaimRepository,
    ClaimDecisionRepository,
    ClaimDecisionsService,
    ClaimsService,
    ClaimReviewService,
    ClaimHistoryService,
    ClaimReconciler,
    ClaimFaults,
    PayoutSummaries,
  ],
  // The payout relay reads claims and decisions (the outbox) and keeps each claim's payout field.
  exports: [MongooseModule, ClaimRepository, ClaimDecisionRepository, PayoutSummaries],
})
export class ClaimsModule {}
