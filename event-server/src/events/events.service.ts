import { Injectable } from '@nestjs/common';
import { AuditAction, AuditTargetType } from '@reward/server-kit/audit-actions';
import { canonicalTimeZone } from '../conditions/local-days.js';
import { DomainError } from '@reward/server-kit/errors';
import type { Page } from '@reward/server-kit/pagination';
import { skipOf } from '@reward/server-kit/pagination';
import type { AuthenticatedUser } from '@reward/server-kit/roles';
import { PlayerReads } from '../player-reads/player-reads.js';
import { claimsStaffRole } from '../staff-access/staff-access.rules.js';
import { AuditLogService, diffFields, pendingAudit, recordPendingAudit } from '../audit/audit-log.service.js';
import { EditLock } from '../edit-lock/edit-lock.js';
import { RewardListing } from '../rewards/reward-listing.js';
import { seesExactStock } from '../rewards/reward.mapper.js';
import type { CreateEventDto } from './dto/create-event.dto.js';
import type { ListEventsQueryDto } from './dto/list-events-query.dto.js';
import type { UpdateEventDto } from './dto/update-event.dto.js';
import { EventCatalog } from './event-catalog.js';
import { EventErrorCode } from './event.errors.js';
import type { EventFields, EventRecord } from './event.js';
import { EventRepository } from './event.repository.js';
import { DEFAULT_TIMEZONE, checkEventDraft } from './event.rules.js';
import type { EventDetailResponseDto, EventResponseDto } from './dto/event-response.dto.js';
import { AUDITED_EVENT_FIELDS, toEventDetailResponse, toEventResponse } from './event.mapper.js';

/**
 * A player's list at an instant (`activeAt`) is cut from the events whose period meets the window of this length
 * that holds the instant, read once for every player asking within the same window meanwhile.
 */
export const ACTIVE_WINDOW_MS = 1_000;

/**
 * The most events one window's read holds (twice the largest page: a player asking about many different seconds
 * costs a read at most that much larger than a page's); past it, each instant's page is read on its own.
 */
export const ACTIVE_WINDOW_MAX_EVENTS = 200;

@Injectable()
export class EventsService {
  constructor(
    private readonly events: EventRepository,
    private readonly rewards: RewardListing,
    private readonly auditLog: AuditLogService,
    private readonly catalog: EventCatalog,
    private readonly editLock: EditLock,
    private readonly playerReads: PlayerReads,
  ) {}

  /** Players' pages of events being read now, by query (see list). */
  private readonly playerPages = new Map<string, Promise<{ items: EventRecord[]; total: number }>>();
  /** Players' windows of events being read now, by status and window (see list). */
  private readonly playerWindows = new Map<string, Promise<EventRecord[] | undefined>>();

  /**
   * The event is inserted with its EVENT_CREATED entry on it (PendingAudit), then the entry is recorded and taken
   * off under the event's edit lock, as a change's is. An entry the store failed to record (the answer is then a
   * 503 or a 500) is recorded by the event's next change, before that change, or by PendingAuditSweep: before, the
   * event stood with no entry for good (nothing about it was left to send again).
   */
  async create(input: CreateEventDto, actor: AuthenticatedUser): Promise<EventResponseDto> {
    const fields = this.fieldsFrom(input);
    const created = await this.events.create({ ...fields, createdBy: actor.id }, (id) => {
      const draft = { ...fields, id, createdBy: actor.id, editorIds: [], createdAt: new Date(), updatedAt: new Date() };
      return pendingAudit({
        actorId: actor.id,
        action: AuditAction.EVENT_CREATED,
        targetType: AuditTargetType.EVENT,
        targetId: id,
        changes: diffFields(undefined, toEventResponse(draft) as unknown as Record<string, unknown>, AUDITED_EVENT_FIELDS),
      });
    });
    await this.editLock.runExclusive(`event:${created.id}`, (lease) =>
      recordPendingAudit(created, this.auditLog, this.events, lease),
    );
    return toEventResponse(created);
  }

  /**
   * Applies any subset of fields; the merged event is validated as a whole before anything is written.
   * One change at a time per event (EditLock): the patch is merged into the event as it is when this change
   * has it, so two operators' changes at once both stand (a deactivation racing a rename is not undone by it),
   * and the audit log says what each changed, in order. `startBy`: the request's start-by time (startByOf), which
   * bounds the wait for the lock and the write's start (503, nothing changed, past it).
   */
  async update(id: string, patch: UpdateEventDto, actor: AuthenticatedUser, startBy?: number): Promise<EventResponseDto> {
    return this.editLock.runExclusive(
      `event:${id}`,
      async (lease) => {
        const existing = await this.require(id);
        // A change before this one whose entry was not recorded (see PendingAudit): recorded first, in order.
        await recordPendingAudit(existing, this.auditLog, this.events, lease);
        const merged: CreateEventDto = {
          title: patch.title ?? existing.title,
          description: patch.description ?? existing.description,
          startAt: patch.startAt ?? existing.startAt.toISOString(),
          endAt: patch.endAt ?? existing.endAt.toISOString(),
          status: patch.status ?? existing.status,
          approval: patch.approval ?? existing.approval,
          timezone: patch.timezone ?? existing.timezone,
          condition: patch.condition ?? (existing.condition as unknown as Record<string, unknown>),
        };
        // A condition the period cannot meet is refused when the change touches either (see checkEventDraft).
        const reachable = [patch.startAt, patch.endAt, patch.timezone, patch.condition].some((field) => field !== undefined);
        const fields = this.fieldsFrom(merged, { reachable });
        const before = toEventResponse(existing) as unknown as Record<string, unknown>;
        const changes = diffFields(
          before,
          toEventResponse({ ...existing, ...fields }) as unknown as Record<string, unknown>,
          AUDITED_EVENT_FIELDS,
        );
        if (Object.keys(changes).length === 0) return toEventResponse(existing);
        lease.assertHeld();
        const entry = pendingAudit({
          actorId: actor.id,
          action: AuditAction.EVENT_UPDATED,
          targetType: AuditTargetType.EVENT,
          targetId: id,
          changes,
        });
        const updated = await this.events.replaceFields(id, fields, actor.id, entry);
        this.catalog.invalidate(id);
        if (!updated) throw this.notFound(id);
        await recordPendingAudit(updated, this.auditLog, this.events, lease);
        return toEventResponse(updated);
      },
      { startBy },
    );
  }

  /**
   * Staff (seesExactStock): the event and its rewards read now, each limited reward's units counted now. Otherwise (a
   * player's view, which every player's app asks for at an event's launch, by the thousand) the event catalog's
   * copy, at most `CLAIM_CATALOG_TTL_MS` old (the one the claims are checked against), with the shared counts: no
   * store command for most views, where reading both for each held the store the claims were waiting for. A view the
   * catalog must read for (an event it does not hold, a made-up id) counts among the player's reads (PlayerReads).
   */
  async getWithRewards(id: string, caller: AuthenticatedUser): Promise<EventDetailResponseDto> {
    const exact = seesExactStock(caller);
    if (!exact) {
      const { event, rewards } = await this.catalog.requireReading(id, (read) => this.playerReads.run(caller, read));
      return toEventDetailResponse(event, await this.rewards.of(rewards, { exact }));
    }
    const event = await this.require(id);
    return toEventDetailResponse(event, await this.rewards.forEvent(id, { exact }));
  }

  /**
   * A page of events. A player's is shared with every player who asks for the same page while it is read (every
   * player's app lists the events at a launch: one read however many ask) and counts among their reads when they
   * start it (PlayerReads). A player's list at an instant (`activeAt`, which an app sets to its own clock, so no two
   * players ask for the same one) is cut from the events whose period meets that instant's second, one read shared
   * by every player asking within that second meanwhile (fewer commands than one page and its count), each
   * answer exactly the events active at its own instant. Staff read their own: one who just changed an event lists
   * it changed.
   */
  async list(query: ListEventsQueryDto, caller: AuthenticatedUser): Promise<Page<EventResponseDto>> {
    const activeAt = query.activeAt ? new Date(query.activeAt) : undefined;
    const page = ({ items, total }: { items: EventRecord[]; total: number }): Page<EventResponseDto> => ({
      items: items.map((event) => toEventResponse(event)),
      page: query.page,
      limit: query.limit,
      total,
    });
    const skip = skipOf(query);
    const read = () => this.events.findPage({ status: query.status, activeAt }, skip, query.limit);
    if (claimsStaffRole(caller.roles)) return page(await read());
    if (activeAt) {
      const active = await this.activeFromWindow(query.status, activeAt, caller);
      if (active) return page({ items: active.slice(skip, skip + query.limit), total: active.length });
    }
    // One key per page however its instant is written (`+09:00` or `Z`, with or without milliseconds).
    const key = [query.status ?? '', activeAt?.toISOString() ?? '', query.page, query.limit].join('|');
    return page(await this.playerReads.shared(this.playerPages, key, caller, read));
  }

  /** The events (of `status`) active at `activeAt`, cut from its window's shared read; undefined if that holds too many. */
  private async activeFromWindow(
    status: ListEventsQueryDto['status'],
    activeAt: Date,
    caller: AuthenticatedUser,
  ): Promise<EventRecord[] | undefined> {
    const from = Math.floor(activeAt.getTime() / ACTIVE_WINDOW_MS) * ACTIVE_WINDOW_MS;
    const window = { status, from: new Date(from), to: new Date(from + ACTIVE_WINDOW_MS - 1) };
    const meeting = await this.playerReads.shared(this.playerWindows, `${status ?? ''}|${from}`, caller, () =>
      this.events.findMeeting(window, ACTIVE_WINDOW_MAX_EVENTS),
    );
    return meeting?.filter((event) => event.startAt <= activeAt && event.endAt >= activeAt);
  }

  /** The event or a 404 EVENT_NOT_FOUND. */
  async require(id: string): Promise<EventRecord> {
    const event = await this.events.findById(id);
    if (!event) throw this.notFound(id);
    return event;
  }

  private notFound(id: string): DomainError {
    return new DomainError(404, EventErrorCode.EVENT_NOT_FOUND, `Event ${id} does not exist`);
  }

  private fieldsFrom(input: CreateEventDto, options: { reachable?: boolean } = {}): EventFields {
    const startAt = new Date(input.startAt);
    const endAt = new Date(input.endAt);
    const timezone = input.timezone ?? DEFAULT_TIMEZONE;
    const condition = checkEventDraft({ startAt, endAt, timezone, condition: input.condition }, options);
    return {
      title: input.title.trim(),
      ...(input.description !== undefined && { description: input.description }),
      startAt,
      endAt,
      status: input.status,
      approval: input.approval,
      // Valid once checked: stored by its canonical name.
      timezone: canonicalTimeZone(timezone),
      condition,
    };
  }
}
