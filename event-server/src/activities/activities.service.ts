import { Inject, Injectable } from '@nestjs/common';
import { AdmissionGate, answeringShed } from '@reward/server-kit/admission-gate';
import { AuditAction, AuditTargetType } from '@reward/server-kit/audit-actions';
import { type Page, skipOf } from '@reward/server-kit/pagination';
import { CommonErrorCode, DomainError } from '@reward/server-kit/errors';
import type { AuthenticatedUser } from '@reward/server-kit/roles';
import { AuditLogService } from '../audit/audit-log.service.js';
import { toTimeRange } from '../common/time-range.js';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import type { ActivityRecord } from './activity.js';
import { ActivityRepository } from './activity.repository.js';
import { type PreparedActivity, prepareActivities } from './activity.rules.js';
import type { ActivityInputDto } from './dto/activity-input.dto.js';
import type { ActivityQueryDto } from './dto/activity-query.dto.js';

export interface ImportResult {
  /** Activities in the request. */
  received: number;
  /** Newly recorded. */
  inserted: number;
  /** Already recorded under the same externalId, for the same user and type (a repeated import), not recorded again. */
  duplicates: number;
  /**
   * Present when some were not recorded because their externalId is already recorded for another user or
   * another type: each one's place in the request (0 for a single activity) and externalId, in the request's
   * order (received = inserted + duplicates + these).
   */
  conflicts?: Array<{ index: number; externalId: string }>;
}

export interface ActivityView {
  id: string;
  userId: string;
  type: string;
  occurredAt: string;
  attributes?: Record<string, unknown>;
  externalId: string;
  source: string;
  recordedBy: string;
  createdAt: string;
}

function toView(record: ActivityRecord): ActivityView {
  return {
    id: record.id,
    userId: record.userId,
    type: record.type,
    occurredAt: record.occurredAt.toISOString(),
    ...(record.attributes !== undefined && { attributes: record.attributes }),
    externalId: record.externalId,
    source: record.source,
    recordedBy: record.recordedBy,
    createdAt: record.createdAt.toISOString(),
  };
}

const activitiesBusy = (retryAfterSeconds: number): DomainError =>
  new DomainError(
    503,
    'ACTIVITIES_BUSY',
    'Too many activity writes are being made on this server; nothing was written, retry after Retry-After',
    { retryAfterSeconds },
  );

@Injectable()
export class ActivitiesService {
  /**
   * The activity imports this process makes at once (ACTIVITY_MAX_IN_FLIGHT, a bounded queue behind them): a
   * launch-day drill's 3,000 imports at once, with a game server's retries of the ones answered 504, held the store
   * from every player's claim for minutes (none recorded in 13 minutes with 300 retries among 1,500 new posts), and
   * were still being recorded long after the gateway had answered 504. The rest are answered 503 ACTIVITIES_BUSY
   * with Retry-After at once, nothing written; a request waits in the queue no longer than it has to be started.
   */
  private readonly gate: AdmissionGate;

  constructor(
    private readonly activities: ActivityRepository,
    private readonly auditLog: AuditLogService,
    @Inject(EVENT_CONFIG) config: EventConfig,
  ) {
    this.gate = new AdmissionGate({ ...config.activities.writes, maxRetryAfterSeconds: 10 });
  }

  /**
   * ACTIVITIES_BUSY for an import that has only just arrived, when the gate would shed it now; undefined when it
   * may go on (see AdmissionGate.shedOnArrival and shedImportsOnArrival).
   */
  shedOnArrival(): DomainError | undefined {
    const shed = this.gate.shedOnArrival();
    return shed && activitiesBusy(shed.retryAfterSeconds);
  }

  /** The writes being made and waiting in this process now (the gate's counts). */
  get load(): { inFlight: number; queued: number } {
    return this.gate.load;
  }

  /**
   * `work` through the gate; `startWithinMs`: what is left of the request's time to be started (START_BY_HEADER),
   * which bounds its wait in the queue.
   */
  private admitted<T>(work: () => Promise<T>, startWithinMs: number | undefined, atOnce = false): Promise<T> {
    return answeringShed(this.gate.run(work, { startWithinMs, atOnce }), activitiesBusy);
  }

  /** An operator's import: all items are checked first; one bad item writes nothing. */
  async import(
    items: ActivityInputDto[],
    batch: boolean,
    actor: AuthenticatedUser,
    startWithinMs?: number,
  ): Promise<ImportResult> {
    const where = (index: number): string => (batch ? `items[${index}].` : '');
    const prepared = prepareActivities(items, new Date(), where);
    // Separation of duties, as for reviews: staff who also play do not record what their own claims are
    // checked against. The whole request is refused, nothing written.
    const own = prepared.findIndex((activity) => activity.userId === actor.id.toLowerCase());
    if (own !== -1) {
      throw new DomainError(
        403,
        CommonErrorCode.FORBIDDEN,
        `${where(own)}userId is your own: activities are not recorded by the player they are for`,
      );
    }
    return this.admitted(() => this.recordImport(prepared, actor), startWithinMs);
  }

  private async recordImport(prepared: PreparedActivity[], actor: AuthenticatedUser): Promise<ImportResult> {
    const result = await this.record(prepared, 'IMPORT', actor.id);
    await this.auditLog.record({
      actorId: actor.id,
      action: AuditAction.ACTIVITIES_IMPORTED,
      targetType: AuditTargetType.ACTIVITY_IMPORT,
      targetId:
        prepared.length === 1
          ? (prepared[0] as PreparedActivity).externalId
          : `batch:${prepared[0]?.externalId ?? ''}+${prepared.length - 1}`,
      changes: {
        received: result.received,
        inserted: result.inserted,
        duplicates: result.duplicates,
        ...(result.conflicts && { conflicts: result.conflicts.length }),
        types: [...new Set(prepared.map((activity) => activity.type))].sort(),
        userCount: new Set(prepared.map((activity) => activity.userId)).size,
      },
    });
    return result;
  }

  /** Activities the platform itself reports (the auth server's LOGIN and FRIEND_INVITE). */
  async recordFromService(items: ActivityInputDto[], service: string): Promise<ImportResult> {
    const prepared = prepareActivities(items, new Date(), (index) => `items[${index}].`, { fromService: true });
    // Never shed: players' login conditions wait for these, and the auth server's relay sends one request at a time
    // per process (its own bound), so a flood of imports does not hold back the logins players just made.
    return this.admitted(() => this.record(prepared, 'AUTH', service), undefined, true);
  }

  async list(query: ActivityQueryDto): Promise<Page<ActivityView>> {
    const { from, to } = toTimeRange(query.from, query.to);
    const { items, total } = await this.activities.findPage(
      { userId: query.userId?.toLowerCase(), type: query.type, from, to },
      skipOf(query),
      query.limit,
    );
    return { items: items.map(toView), page: query.page, limit: query.limit, total };
  }

  private async record(prepared: PreparedActivity[], source: 'IMPORT' | 'AUTH', recordedBy: string): Promise<ImportResult> {
    const { inserted, duplicates, conflicts } = await this.activities.insertNew(
      prepared.map((activity) => ({ ...activity, source, recordedBy })),
    );
    return {
      received: prepared.length,
      inserted,
      duplicates,
      ...(conflicts.length > 0 && {
        conflicts: conflicts.map((index) => ({ index, externalId: (prepared[index] as PreparedActivity).externalId })),
      }),
    };
  }
}
