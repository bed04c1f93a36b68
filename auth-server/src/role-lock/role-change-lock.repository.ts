import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { type LeaseDocument, ModelLeaseStore } from '@reward/server-kit/lease-store';
import type { Model } from 'mongoose';

/** The model of the role-change leases (collection `role_change_locks`, see RoleLockModule). */
export const ROLE_CHANGE_LOCKS = 'RoleChangeLock';

/** The role-change leases: an insert under the unique `_id` takes one, a delete lets go (see LeaseMutex). */
@Injectable()
export class RoleChangeLockRepository extends ModelLeaseStore {
  constructor(@InjectModel(ROLE_CHANGE_LOCKS) model: Model<LeaseDocument>) {
    super(model);
  }
}
