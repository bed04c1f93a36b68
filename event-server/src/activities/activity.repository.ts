import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { insertEach } from '@reward/server-kit/duplicate-key';
import { type Model, type QueryFilter } from 'mongoose';
import type { ActivityFact, FactPlan } from '../conditions/condition.evaluator.js';
import { ActivityType } from '../conditions/condition.types.js';
import type { ActivityFilter, ActivityRecord, NewActivity } from './activity.js';
import { type StoredActivity, toActivity } from './activity.mapper.js';
import { ActivityEntity } from './activity.schema.js';

@Injectable()
export class ActivityRepository {
  constructor(@InjectModel(ActivityEntity.name) private readonly model: Model<ActivityEntity>) {}

  /**
   * Inserts every activity whose externalId is new; a known externalId is a duplicate, not an error
   * (the unique index decides, so concurrent imports of one batch record each activity once). A known
   * externalId recorded for another user or type is not this activity repeated: it is a conflict, returned
   * by its index in `activities` (one more read, only when an import met known ids), so that nothing is
   * dropped unseen.
   */
  async insertNew(activities: NewActivity[]): Promise<{ inserted: number; duplicates: number; conflicts: number[] }> {
    if (activities.length === 0) return { inserted: 0, duplicates: 0, conflicts: [] };
    const now = new Date();
    const docs = activities.map((activity) => ({ ...activity, createdAt: now }));
    const stored = await insertEach(() => this.model.collection.insertMany(docs, { ordered: false }), docs.length);
    const refused = stored.flatMap((wasStored, index) => (wasStored ? [] : [index]));
    const conflicts = refused.length === 0 ? [] : await this.conflictsAmong(activities, refused);
    return { inserted: activities.length - refused.length, duplicates: refused.length - conflicts.length, conflicts };
  }

  /** Those of the `refused` indexes whose externalId is recorded for another user or another type. */
  private async conflictsAmong(activities: NewActivity[], refused: number[]): Promise<number[]> {
    const ids = [...new Set(refused.map((index) => (activities[index] as NewActivity).externalId))];
    const recorded = await this.model
      .find({ externalId: { $in: ids } }, { externalId: 1, userId: 1, type: 1 })
      .lean<Array<{ externalId: string; userId: string; type: string }>>()
      .exec();
    const byId = new Map(recorded.map((doc) => [doc.externalId, doc]));
    return refused.filter((index) => {
      const activity = activities[index] as NewActivity;
      const known = byId.get(activity.externalId);
      return known !== undefined && (known.userId !== activity.userId || known.type !== activity.type);
    });
  }

  async findPage(filter: ActivityFilter, skip: number, limit: number): Promise<{ items: ActivityRecord[]; total: number }> {
    const query: QueryFilter<ActivityEntity> = {};
    if (filter.userId) query.userId = filter.userId;
    if (filter.type) query.type = filter.type;
    if (filter.from || filter.to) {
      query.occurredAt = { ...(filter.from && { $gte: filter.from }), ...(filter.to && { $lte: filter.to }) };
    }
    const [docs, total] = await Promise.all([
      this.model.find(query).sort({ occurredAt: -1, _id: -1 }).skip(skip).limit(limit).lean<StoredActivity[]>().exec(),
      this.model.countDocuments(query).exec(),
    ]);
    return { items: docs.map(toActivity), total };
  }

  /**
   * What the condition evaluator needs of one user's activities inside a period, as the plan says: only
   * the type and instant are read, which the (userId, type, occurredAt) index holds on its own (on MongoDB
   * the query is covered: no document is fetched). Types that are only counted are read up to the count a
   * leaf requires. Quest clears also need their questId, so they are read apart. One query per part, in
   * parallel: one or two for most conditions.
   */
  async findFacts(userId: string, plan: FactPlan, from: Date, to: Date): Promise<ActivityFact[]> {
    const period = { $gte: from, $lte: to };
    const typeAndInstant = { _id: 0, type: 1, occurredAt: 1 };
    // The driver's own finds (no Mongoose query): this runs on every claim's path, and building, casting
    // and wrapping a Mongoose query cost more CPU than the command; the filter is already typed.
    const read = (filter: Record<string, unknown>, projection: Record<string, number>, limit = 0): Promise<ActivityFact[]> =>
      this.model.collection.find<ActivityFact>(filter, { projection, limit }).toArray();
    const reads: Array<Promise<ActivityFact[]>> = [];
    if (plan.instants.length > 0) {
      const type = plan.instants.length === 1 ? plan.instants[0]! : { $in: plan.instants };
      reads.push(read({ userId, type, occurredAt: period }, typeAndInstant));
    }
    for (const [type, required] of plan.counts) reads.push(read({ userId, type, occurredAt: period }, typeAndInstant, required));
    if (plan.quests) {
      reads.push(
        read({ userId, type: ActivityType.QUEST_CLEAR, occurredAt: period }, { ...typeAndInstant, 'attributes.questId': 1 }),
      );
    }
    return (await Promise.all(reads)).flat();
  }
}
