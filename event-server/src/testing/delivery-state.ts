import type { INestApplicationContext } from '@nestjs/common';
import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { DeliveryRecord } from '../payout/delivery.js';
import { type StoredDelivery, toDelivery } from '../payout/delivery.mapper.js';
import { DeliveryEntity } from '../payout/delivery.schema.js';

/**
 * Test set-up: makes a delivery PENDING, due at `at`, its retry schedule counted after `retryBase` attempts,
 * whatever state it is in and without a retry record (the server itself only does so for a FAILED delivery
 * whose retry it holds: DeliveryRepository.rescheduleFailed and reopenFailed). Undefined when there is none.
 */
export async function makeDeliveryDue(
  app: INestApplicationContext,
  id: string,
  at: Date,
  retryBase: number,
): Promise<DeliveryRecord | undefined> {
  const model = app.get<Model<DeliveryEntity>>(getModelToken(DeliveryEntity.name));
  const doc = await model
    .findByIdAndUpdate(id, { $set: { status: 'PENDING', nextAttemptAt: at, retryBase } }, { returnDocument: 'after' })
    .lean<StoredDelivery>()
    .exec();
  return doc ? toDelivery(doc) : undefined;
}
