import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { insertEach } from '@reward/server-kit/duplicate-key';
import { type Model, type QueryFilter } from 'mongoose';
import type { ActivityCounts, ActivityFact, EventPeriod, FactPlan } from '../conditions/condition.evaluator.js';
import { ActivityType } from '../conditions/condition.types.js';
import { LocalDays } from '../conditions/local-days.js';
import type { ActivityFilter, ActivityRecord, NewActivity } from './activity.js';
import { type StoredActivity, toActivity } from './activity.mapper.js';
import { ActivityEntity } from './activity.schema.js';
import { LoginQuarterRepository, type RecordedLogin } from './login-quarter.repository.js';
import { readMarks } from './login-quarter.rules.js';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { readListPage } from '../common/list-read.js';

type Recorded = Pick<NewActivity, 'externalId' | 'userId' | 'type' | 'occurredAt'>;

const TYPE_AND_INSTANT = { _id: 0, type: 1, occurredAt: 1 };

/** Known externalIds of an import read one equality each up to this many, else with one `$in` (recordedAmong). */
const RECORDED_READ_ONE_BY_ONE = 16;

@Injectable()
export class ActivityRepository {
  constructor(
    @InjectModel(ActivityEntity.name) private readonly model: Model<ActivityEntity>,
    private readonly loginQuarters: LoginQuarterRepository,
    @Inject(EVENT_CONFIG) private readonly config: EventConfig,
  ) {}

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
    const recorded = refused.length === 0 ? new Map<string, Recorded>() : await this.recordedAmong(activities, refused);
    const conflicts = refused.filter((index) => {
      const activity = activities[index] as NewActivity;
      const known = recorded.get(activity.externalId);
      return known !== undefined && (known.userId !== activity.userId || known.type !== activity.type);
    });
    // The quarter hours of every LOGIN now recorded, those recorded before included (with the instant
    // recorded then): the marks come after the activities, so a crash in between leaves a login unmarked
    // until the import is retried (the auth server's relay retries until it is answered) or the next sweep
    // (LoginMarkSweep) finds it, never a mark without its login.
    const logins = activities.flatMap((activity, index) => {
      if (activity.type !== ActivityType.LOGIN) return [];
      if (stored[index]) return [activity];
      const known = recorded.get(activity.externalId);
      return known?.userId === activity.userId && known.type === activity.type ? [known] : [];
    });
    await this.loginQuarters.mark(logins);
    return { inserted: activities.length - refused.length, duplicates: refused.length - conflicts.length, conflicts };
  }

  /** What is recorded under the externalIds of the `refused` indexes (one more read, only when an import met known ids). */
  private async recordedAmong(activities: NewActivity[], refused: number[]): Promise<Map<string, Recorded>> {
    const ids = [...new Set(refused.map((index) => (activities[index] as NewActivity).externalId))];
    const projection = { _id: 0, externalId: 1, userId: 1, type: 1, occurredAt: 1 };
    // A few ids (a client or the auth server's relay sending an activity again, the common case) are read one
    // equality each, in parallel: FerretDB hands an equality to PostgreSQL but reads the whole collection for
    // `$in` (2.3 s for one id among 22,000 activities, against 16 ms), which held the store from every claim while
    // a launch's logins were being sent again. More ids are one `$in` (on MongoDB, one indexed read either way).
    const recorded =
      ids.length <= RECORDED_READ_ONE_BY_ONE
        ? (
            await Promise.all(ids.map((externalId) => this.model.findOne({ externalId }, projection).lean<Recorded>().exec()))
          ).filter((doc): doc is Recorded => doc !== null)
        : await this.model
            .find({ externalId: { $in: ids } }, projection)
            .lean<Recorded[]>()
            .exec();
    return new Map(recorded.map((doc) => [doc.externalId, doc]));
  }

  /** The LOGINs recorded since `since` (their `createdAt`; every one without it), read in batches. */
  loginsRecordedSince(since: Date | undefined): AsyncIterable<RecordedLogin> {
    const filter = { type: ActivityType.LOGIN, ...(since && { createdAt: { $gte: since } }) };
    return this.model.collection.find<RecordedLogin>(filter, {
      projection: { _id: 0, userId: 1, occurredAt: 1, createdAt: 1 },
      batchSize: 1000,
    });
  }

  async findPage(filter: ActivityFilter, skip: number, limit: number): Promise<{ items: ActivityRecord[]; total: number }> {
    const query: QueryFilter<ActivityEntity> = {};
    if (filter.userId) query.userId = filter.userId;
    if (filter.type) query.type = filter.type;
    if (filter.from || filter.to) {
      query.occurredAt = { ...(filter.from && { $gte: filter.from }), ...(filter.to && { $lte: filter.to }) };
    }
    const { docs, total } = await readListPage(
      this.model.find(query).sort({ occurredAt: -1, _id: -1 }).skip(skip).limit(limit).lean<StoredActivity[]>(),
      this.model.countDocuments(query),
      this.config.lists.readMaxMs,
      'userId, type, from/to',
    );
    return { items: docs.map(toActivity), total };
  }

  /**
   * What the condition evaluator needs of one user's activities inside an event's period, as the plan says:
   * only the type and instant are read, which the (userId, type, occurredAt) index holds on its own (on
   * MongoDB the query is covered: no document is fetched). Types that are only counted are counted by the store
   * up to the count a leaf requires (countUpTo: no document is sent). A quest a leaf names is one read of a clear of
   * it, limit 1 (the (userId, type, attributes.questId, occurredAt) index on MongoDB; FerretDB hands PostgreSQL
   * the userId and type but not the dotted questId, so it still looks through the player's clears, without
   * sending them); several quests are one read of which of them were cleared (questsCleared). Logins read for
   * their days only are read from their quarter-hour marks. One command per part, in parallel: one or two for
   * most conditions.
   */
  async findFacts(
    userId: string,
    plan: FactPlan,
    event: EventPeriod,
  ): Promise<{ facts: ActivityFact[]; counts: ActivityCounts }> {
    const period = { $gte: event.startAt, $lte: event.endAt };
    const reads: Array<Promise<ActivityFact[]>> = [];
    // Login days from the marks when the period's days start on quarter hours; every login otherwise.
    const days = plan.loginDaysByMarks ? LocalDays.of(event.startAt, event.endAt, event.timezone) : undefined;
    const byMarks = days?.quarterAligned ? days : undefined;
    if (byMarks) reads.push(this.loginsByQuarter(userId, byMarks));
    const instants = byMarks ? plan.instants.filter((type) => type !== ActivityType.LOGIN) : plan.instants;
    if (instants.length > 0) {
      const type = instants.length === 1 ? instants[0]! : { $in: instants };
      reads.push(this.read({ userId, type, occurredAt: period }, TYPE_AND_INSTANT));
    }
    const [onlyQuest] = plan.questIds;
    if (plan.questIds.length === 1 && onlyQuest !== undefined) {
      // One quest: one read of a clear of it, stopping at the first.
      const filter = { userId, type: ActivityType.QUEST_CLEAR, 'attributes.questId': onlyQuest, occurredAt: period };
      reads.push(this.read(filter, { ...TYPE_AND_INSTANT, 'attributes.questId': 1 }, 1));
    } else if (plan.questIds.length > 1) {
      reads.push(this.questsCleared(userId, plan.questIds, event));
    }
    // A type whose every instant is read above needs no count of its own (the evaluator counts those).
    const counted = [...plan.counts].filter(([type]) => !instants.includes(type));
    const [facts, counts] = await Promise.all([
      Promise.all(reads).then((found) => found.flat()),
      Promise.all(
        counted.map(async ([type, required]) => {
          const filter = { userId, type, occurredAt: period };
          return [type, await this.countUpTo(filter, required)] as const;
        }),
      ),
    ]);
    return { facts, counts: new Map(counts) };
  }

  /**
   * How many activities match `filter`, counted by the store up to `limit`: one `count` command, no activity
   * sent. With a filter the command counts what a find would match (exact since MongoDB 4.0, on a sharded
   * cluster too); only a count without one reads the collection's metadata, which is why the driver
   * deprecates its `count()` helper for `countDocuments`. That helper sends an aggregation ($match, $limit,
   * $group) which FerretDB runs in its own code after PostgreSQL's scan: on FerretDB the command costs a
   * claim about 0.4 ms less of the store's CPU (docs/benchmarks.md). Sent by the collection's `count()`, not
   * `db.command()`: the driver retries it once as a read (a connection reset under it is answered, not a 503,
   * as countDocuments' was), with the collection's read preference and concern, and Mongoose holds it until
   * the first connection as it holds every other command (a bare `db.command()` had no database then: a 500).
   */
  private countUpTo(
    filter: { userId: string; type: string; occurredAt: { $gte: Date; $lte: Date } },
    limit: number,
  ): Promise<number> {
    return this.model.collection.count(filter, { limit });
  }

  /**
   * Which of several quests the player cleared in the period, in one read: a fact per quest cleared. FerretDB
   * hands PostgreSQL the userId and type but not the dotted questId, so a read per quest (as for one quest)
   * looked through all of the player's clears once per quest named: an event of 20 quest leaves cost a player
   * with 20,000 clears 20 such looks per claim or progress check (36 s of store time: ten claims held the store
   * for minutes). One read looks through them once. On MongoDB it walks the (userId, type, attributes.questId,
   * occurredAt) index over the named quests' clears in the period. Each clear is counted, not sent, and only
   * the quest matters to the evaluator: FerretDB's `$group` has no `$min` to give the first clear's instant, so
   * the period's start stands for it (the read was of clears inside the period).
   */
  private async questsCleared(userId: string, questIds: readonly string[], event: EventPeriod): Promise<ActivityFact[]> {
    const groups = await this.model.collection
      .aggregate<{ _id: unknown }>([
        {
          $match: {
            userId,
            type: ActivityType.QUEST_CLEAR,
            'attributes.questId': { $in: [...questIds] },
            occurredAt: { $gte: event.startAt, $lte: event.endAt },
          },
        },
        { $group: { _id: '$attributes.questId', clears: { $sum: 1 } } },
      ])
      .toArray();
    return groups
      .filter((group): group is { _id: string } => typeof group._id === 'string')
      .map((group) => ({ type: ActivityType.QUEST_CLEAR, occurredAt: event.startAt, attributes: { questId: group._id } }));
  }

  /**
   * One LOGIN per quarter hour of the period in which the player logged in (readMarks), at most 96 a day
   * however often the player logs in, and a probe (a limit of 1) for a quarter hour cut in two by the
   * period's start or end whose mark's login lies outside it. That is what login days and streaks need.
   */
  private async loginsByQuarter(userId: string, days: LocalDays): Promise<ActivityFact[]> {
    const marks = await this.loginQuarters.within(userId, new Date(days.from), new Date(days.to));
    const { instants, probes } = readMarks(
      marks.map(({ quarter, at }) => ({ quarter: quarter.getTime(), at: at.getTime() })),
      days,
    );
    const facts = instants.map((instant): ActivityFact => ({ type: ActivityType.LOGIN, occurredAt: new Date(instant) }));
    if (probes.length === 0) return facts;
    const found = await Promise.all(
      probes.map(({ from, to }) =>
        this.read(
          { userId, type: ActivityType.LOGIN, occurredAt: { $gte: new Date(from), $lte: new Date(to) } },
          TYPE_AND_INSTANT,
          1,
        ),
      ),
    );
    return facts.concat(...found);
  }

  // The driver's own finds (no Mongoose query): this runs on every claim's path, and building, casting and
  // wrapping a Mongoose query cost more CPU than the command; the filter is already typed.
  private read(filter: Record<string, unknown>, projection: Record<string, number>, limit = 0): Promise<ActivityFact[]> {
    return this.model.collection.find<ActivityFact>(filter, { projection, limit }).toArray();
  }
}
