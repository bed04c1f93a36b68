import { Schema, type Model } from 'mongoose';
import { isDuplicateKeyError } from './duplicate-key.js';
import type { Lease, LeaseStore } from './lease-mutex.js';

/** A lease document: `_id` is the mutex (or `<mutex>:takeover:<holder>`), the unique `_id` index admits one holder. */
export interface LeaseDocument {
  _id: string;
  holder: string;
  expiresAt: Date;
}

/** The schema of a collection of leases (one document per mutex held). */
export function leaseSchema(collection: string): Schema<LeaseDocument> {
  return new Schema<LeaseDocument>(
    {
      _id: { type: String, required: true },
      holder: { type: String, required: true },
      expiresAt: { type: Date, required: true },
    },
    { collection, versionKey: false, _id: false },
  );
}

/**
 * A LeaseStore over a Mongoose model of lease documents (see leaseSchema). Each server's lease repository
 * extends it with its own model (`@InjectModel` stays in the servers' `*.repository.ts`).
 */
export class ModelLeaseStore implements LeaseStore {
  constructor(private readonly model: Model<LeaseDocument>) {}

  async tryInsert(key: string, lease: Lease): Promise<boolean> {
    try {
      await this.model.create({ _id: key, holder: lease.holder, expiresAt: lease.expiresAt });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  async find(key: string): Promise<Lease | undefined> {
    const document = await this.model.findById(key).lean<LeaseDocument>().exec();
    return document ? { holder: document.holder, expiresAt: document.expiresAt } : undefined;
  }

  async deleteHeld(key: string, holder: string): Promise<void> {
    await this.model.deleteOne({ _id: key, holder }).exec();
  }
}
