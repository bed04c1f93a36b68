import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { insertEach } from '@reward/server-kit/duplicate-key';
import type { Model } from 'mongoose';
import { ActivityType } from '../conditions/condition.types.js';
import { quarterHourOf } from './login-quarter.rules.js';
import { LoginQuarterEntity } from './login-quarter.schema.js';

export interface Login {
  userId: string;
  occurredAt: Date;
}

export interface LoginQuarter {
  quarter: Date;
  at: Date;
}

/** The record that every LOGIN recorded before the marks existed has its mark (see `onApplicationBootstrap`). */
const BACKFILL_DONE = 'login-quarters';
const BACKFILL_BATCH = 1000;

/** The login marks of LoginQuarterEntity: made when a LOGIN is recorded, read by login conditions. */
@Injectable()
export class LoginQuarterRepository implements OnApplicationBootstrap {
  private readonly logger = new Logger(LoginQuarterRepository.name);

  constructor(@InjectModel(LoginQuarterEntity.name) private readonly model: Model<LoginQuarterEntity>) {}

  /**
   * Marks the quarter hours of these logins: one unordered insert, marks already there refused by the
   * unique index (whichever login was recorded first keeps its instant).
   */
  async mark(logins: readonly Login[]): Promise<void> {
    const marks = new Map<string, { userId: string; quarter: Date; at: Date }>();
    for (const { userId, occurredAt } of logins) {
      const quarter = quarterHourOf(occurredAt.getTime());
      const key = `${userId}|${quarter}`;
      if (!marks.has(key)) marks.set(key, { userId, quarter: new Date(quarter), at: occurredAt });
    }
    if (marks.size === 0) return;
    const docs = [...marks.values()];
    await insertEach(() => this.model.collection.insertMany(docs, { ordered: false }), docs.length);
  }

  /** The player's marks of the quarter hours that overlap [from, to]. */
  within(userId: string, from: Date, to: Date): Promise<LoginQuarter[]> {
    // The driver's own find, as for the activity reads on the claim's path (ActivityRepository.findFacts).
    const quarter = { $gte: new Date(quarterHourOf(from.getTime())), $lte: new Date(quarterHourOf(to.getTime())) };
    return this.model.collection.find<LoginQuarter>({ userId, quarter }, { projection: { _id: 0, quarter: 1, at: 1 } }).toArray();
  }

  /**
   * Marks every LOGIN recorded before marks existed, once per database: a store upgraded from a version
   * without them would otherwise count none of its past logins. It reads every LOGIN once, before the
   * server takes requests, then records that it is done; a second replica starting meanwhile does the
   * same work, its marks refused as duplicates. A fresh database has nothing to read.
   */
  async onApplicationBootstrap(): Promise<void> {
    const migrations = this.model.db.collection<{ _id: string; at: Date }>('migrations');
    if (await migrations.findOne({ _id: BACKFILL_DONE })) return;
    const activities = this.model.db.collection<Login>('activities');
    const cursor = activities.find(
      { type: ActivityType.LOGIN },
      { projection: { _id: 0, userId: 1, occurredAt: 1 }, batchSize: BACKFILL_BATCH },
    );
    let batch: Login[] = [];
    let read = 0;
    for await (const login of cursor) {
      batch.push(login);
      read += 1;
      if (batch.length === BACKFILL_BATCH) {
        await this.mark(batch);
        batch = [];
      }
    }
    await this.mark(batch);
    // An insert, not an upsert: another replica that got there first is a refused duplicate, not a race.
    await insertEach(() => migrations.insertOne({ _id: BACKFILL_DONE, at: new Date() }), 1);
    if (read > 0) this.logger.log(`marked the quarter hours of ${read} LOGIN activities recorded before login marks`);
  }
}
