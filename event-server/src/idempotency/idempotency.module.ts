import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { IdempotencyKeyRepository } from './idempotency-key.repository.js';
import { IdempotencyKeyEntity, IdempotencyKeySchema } from './idempotency-key.schema.js';
import { IdempotencyService } from './idempotency.service.js';

@Module({
  imports: [MongooseModule.forFeature([{ name: IdempotencyKeyEntity.name, schema: IdempotencyKeySchema }])],
  providers: [IdempotencyKeyRepository, IdempotencyService],
  exports: [IdempotencyService],
})
export class IdempotencyModule {}
