import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { IdempotencyKeyRepository } from './idempotency-key.repository.js';
import { IdempotencyKeyEntity, IdempotencyKeySchema } from './idempotency-key.schema.js';
import { IdempotencyService } from './idempotency.service.js';
import { InstanceLiveness } from './instance-liveness.js';
import { InstanceEntity, InstanceSchema } from './instance.schema.js';

@Module({
  imports: [
    MongooseModule.forFeature([
      { name: IdempotencyKeyEntity.name, schema: IdempotencyKeySchema },
      { name: InstanceEntity.name, schema: InstanceSchema },
    ]),
  ],
  providers: [IdempotencyKeyRepository, IdempotencyService, InstanceLiveness],
  exports: [IdempotencyService],
})
export class IdempotencyModule {}
