import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { insertEach } from '@reward/server-kit/duplicate-key';
import type { Model } from 'mongoose';
import { quarterHourOf } from './login-quarter.rules.js';
import { LoginQuarterEntity } from './login-quarter.schema.js';

export interface Login {
  userId: string;
  occurredAt: Date;
}

/** A LOGIN as the sweep reads it: with when it was recorded. */
export interface RecordedLogin extends Login {
  createdAt: Date;
}

export interface LoginQuarter {
  quarter: Date;
  at: Date;
}

/** The record of how far back every recorded LOGIN is known to be marked (see LoginMarkSweep). */
const SWEPT = 'login-quarters';

/** The login marks of LoginQuarterEntity: made when a LOGIN is recorded, read by login conditions. */
@Injectable()
export class LoginQuarterRepository {
  constructor(@InjectModel(LoginQuarterEntity.name) private readonly model: Model<LoginQuarterEntity>) {}

  /**
   * Marks the quarter hours of these logins: one unordered insert, marks already there refused by the
   * unique index (whichever login was recorded first keeps its instant). How many marks were new.
   */
  async mark(logins: readonly Login[]): Promise<number> {
    const marks = new Map<string, { userId: string; quarter: Date; at: Date }>();
    for (const { userId, occurredAt } of logins) {
      const quarter = quarterHourOf(occurredAt.getTime());
      const key = `${userId}|${quarter}`;
      if (!marks.has(key)) marks.set(key, { userId, quarter: new Date(quarter), at: occurredAt });
    }
    if (marks.size === 0) return 0;
    const docs = [...marks.values()];
    const stored = await insertEach(() => this.model.collection.insertMany(docs, { ordered: false }), docs.length);
    return stored.filter(Boolean).length;
  }

  /** The player's marks of the quarter hours that overlap [from, to]. */
  within(userId: string, from: Date, to: Date): Promise<LoginQuarter[]> {
    // The driver's own find, as for the activity reads on the claim's path (ActivityRepository.findFacts).
    const quarter = { $gte: new Date(quarterHourOf(from.getTime())), $lte: new Date(quarterHourOf(to.getTime())) };
    return this.model.collection.find<LoginQuarter>({ userId, quarter }, { projection: { _id: 0, quarter: 1, at: 1 } }).toArray();
  }

  /**
   * Every LOGIN recorded (its `createdAt`) before this instant has its mark; undefined while no sweep has
   * finished on this database (one upgraded from a version without marks, or a fresh one).
   */
  async sweptUpTo(): Promise<Date | undefined> {
    const record = await this.swept().findOne({ _id: SWEPT });
    return record?.upTo;
  }

  /**
   * Records a finished sweep. Replicas sweeping at once may write in any order, so the record can go back
   * to an earlier instant: the next sweep then reads a little more, never less (each value written is the
   * latest `createdAt` its sweep read, every LOGIN recorded before it marked).
   */
  async recordSweptUpTo(upTo: Date): Promise<void> {
    const [inserted] = await insertEach(() => this.swept().insertOne({ _id: SWEPT, upTo }), 1);
    if (!inserted) await this.swept().updateOne({ _id: SWEPT }, { $set: { upTo } });
  }

  private swept() {
    return this.model.db.collection<{ _id: string; upTo: Date }>('migrations');
  }
}
