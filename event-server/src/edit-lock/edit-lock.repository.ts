import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { type LeaseDocument, ModelLeaseStore } from '@reward/server-kit/lease-store';
import type { Model } from 'mongoose';

/** The model of the edit leases (collection `edit_locks`, see EditLockModule). */
export const EDIT_LOCKS = 'EditLock';

/** The edit leases: an insert under the unique `_id` takes one, a delete lets go (see LeaseMutex). */
@Injectable()
export class EditLockRepository extends ModelLeaseStore {
  constructor(@InjectModel(EDIT_LOCKS) model: Model<LeaseDocument>) {
    super(model);
  }
}
