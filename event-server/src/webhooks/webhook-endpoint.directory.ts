import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { type WebhookEndpointRecord, receivesMoreSince } from './webhook-endpoint.js';
import { WebhookEndpointRepository } from './webhook-endpoint.repository.js';

/**
 * How an endpoint became news to this process (see onEnabled). `firstLoad`: this process's copy never lacked it (its
 * first load listed it), so only replicas stopped since may have recorded transitions without it; otherwise this
 * process may have too (created or enabled again since its copy was loaded, or its first load failed while claims
 * were served from an empty copy).
 */
export interface EndpointNews {
  firstLoad: boolean;
  /**
   * Named by this process's first load that succeeded, after one that failed: this process may have recorded
   * transitions without it (so `firstLoad` is false), and, as at any start, replicas stopped since may have too.
   */
  afterFailedLoad?: boolean;
  /**
   * From when this copy lacked what the endpoint now receives (receivesMoreSince): its enabling, or when it took
   * an event type this copy did not list. Absent: its enabling.
   */
  since?: Date;
}

/**
 * This process's copy of the enabled endpoints, so that the claim path learns who is subscribed without
 * a store command. Refreshed in the background every `WEBHOOK_ENDPOINT_CACHE_MS` (5 s by default) and
 * at once after a change made through this process; another replica's change shows within that time (or
 * later: timers run late under load). What a stale copy costs is repaired by the payout relay: transitions
 * recorded without a new endpoint are back-filled once the copy lists it (onEnabled), and deliveries to an
 * endpoint deleted or disabled before their transition are dropped when sent.
 */
@Injectable()
export class WebhookEndpointDirectory implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WebhookEndpointDirectory.name);
  private endpoints: ReadonlyMap<string, WebhookEndpointRecord> = new Map();
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;
  private readonly subscribedListeners = new Set<() => void>();
  private readonly enabledListeners = new Set<(endpoint: WebhookEndpointRecord, news: EndpointNews) => void>();
  /** Whether a load has succeeded: the first one names every endpoint it lists, as news of a first load. */
  private loaded = false;
  /** Whether a load failed before the first succeeded: this process then served claims from an empty copy. */
  private failedBeforeLoaded = false;
  /** Counts the changes made through this process, so that a reload begun before one is not kept. */
  private changes = 0;
  private stopped = false;

  constructor(
    @Inject(EVENT_CONFIG) private readonly config: EventConfig,
    private readonly repository: WebhookEndpointRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.config.payout.endpointCacheMs);
    this.timer.unref();
  }

  onModuleDestroy(): Promise<void> | undefined {
    this.stopped = true;
    clearInterval(this.timer);
    return this.refreshing;
  }

  /**
   * Ids of the enabled endpoints subscribed to this event type (no I/O). The claim path asks this for
   * every decision it records, so a non-empty answer also tells the listeners (the payout relay) that
   * webhooks are about to be waiting: the relay wakes for them instead of polling.
   */
  subscribers(type: string): string[] {
    const ids: string[] = [];
    for (const endpoint of this.endpoints.values()) if (endpoint.events.includes(type)) ids.push(endpoint.id);
    if (ids.length > 0) for (const listener of this.subscribedListeners) listener();
    return ids;
  }

  /** `listener` runs (synchronously; it must not throw or wait) whenever `subscribers` names an endpoint. */
  onSubscribed(listener: () => void): void {
    this.subscribedListeners.add(listener);
  }

  /**
   * `listener` runs (synchronously; it must not throw or wait) when this copy starts listing an endpoint it did
   * not list before (created or enabled again since), or an event type the endpoint took since (`news.since`): from
   * this moment on this process's transitions name it, and the transitions it recorded before without it are what
   * the payout back-fill looks for. The first load names every endpoint it lists (`firstLoad`): replicas stopped
   * since may have recorded transitions without them, and the back-fill's mark in the store tells what is still owed.
   */
  onEnabled(listener: (endpoint: WebhookEndpointRecord, news: EndpointNews) => void): void {
    this.enabledListeners.add(listener);
  }

  hasEndpoints(): boolean {
    return this.endpoints.size > 0;
  }

  /** The cached enabled endpoint, if this process knows it as enabled. */
  cached(id: string): WebhookEndpointRecord | undefined {
    return this.endpoints.get(id);
  }

  /**
   * An endpoint was changed (or deleted) through this process, and `now` is what it became (null: deleted):
   * the copy holds that at once, enabled, or leaves the endpoint out, so that neither the claim path nor the
   * relay acts on what it was (an endpoint left out while still enabled would miss the decisions recorded
   * meanwhile). Then the whole copy is reloaded by a read that starts after the change (a reload already in
   * flight may have read the endpoint as it was).
   */
  async changed(id: string, now: WebhookEndpointRecord | null): Promise<void> {
    this.changes += 1;
    const endpoints = new Map(this.endpoints);
    if (now?.enabled) endpoints.set(id, now);
    else endpoints.delete(id);
    this.replace(endpoints);
    await this.refresh();
  }

  /** Reloads now; concurrent calls share one read, and a change made during a read is followed by another. */
  async refresh(): Promise<void> {
    for (;;) {
      const changesBefore = this.changes;
      this.refreshing ??= this.load();
      await this.refreshing;
      if (this.changes === changesBefore || this.stopped) return;
    }
  }

  /**
   * Swaps the copy, and names to the listeners the endpoints that now receive what the copy before did not list
   * (on the first load, every one: see onEnabled).
   */
  private replace(endpoints: ReadonlyMap<string, WebhookEndpointRecord>): void {
    const before = this.endpoints;
    this.endpoints = endpoints;
    const news: EndpointNews = {
      firstLoad: !this.loaded && !this.failedBeforeLoaded,
      ...(!this.loaded && this.failedBeforeLoaded && { afterFailedLoad: true }),
    };
    const named: [WebhookEndpointRecord, EndpointNews][] = [];
    for (const endpoint of endpoints.values()) {
      const since = receivesMoreSince(this.loaded ? before.get(endpoint.id) : undefined, endpoint);
      if (since) named.push([endpoint, { ...news, since }]);
    }
    this.loaded = true;
    for (const [endpoint, itsNews] of named) for (const listener of this.enabledListeners) listener(endpoint, itsNews);
  }

  private load(): Promise<void> {
    const changesAtStart = this.changes;
    return this.repository
      .findEnabled()
      .then((list) => {
        // A read that started before a local change may show the endpoint as it was: it is not kept.
        if (this.changes === changesAtStart) this.replace(new Map(list.map((endpoint) => [endpoint.id, endpoint])));
      })
      .catch((error: unknown) => {
        if (!this.loaded) this.failedBeforeLoaded = true;
        this.logger.warn(`Webhook endpoint refresh failed: ${String(error)}`);
      })
      .finally(() => {
        this.refreshing = undefined;
      });
  }
}
