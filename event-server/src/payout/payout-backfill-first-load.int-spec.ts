import { afterAll, describe, expect, it, vi } from 'vitest';
import { type Actor, claim, createClaimableEvent, eligibleUsers } from '../testing/claim-test-kit.js';
import { type EventTestApp, startEventTestApp, startReplicaOf } from '../testing/event-test-app.js';
import { TestReceiver } from '../testing/webhook-test-receiver.js';
import { WebhookEndpointRepository } from '../webhooks/webhook-endpoint.repository.js';
import { BACKFILL_HORIZON_MS, PayoutBackfill } from './payout-backfill.service.js';
import { PayoutBackfillMarkRepository } from './payout-backfill-mark.repository.js';
import { PayoutOutboxRepository } from './payout-outbox.repository.js';

/**
 * A stack stopped seconds after an endpoint's creation: replica B recorded grants from a copy that did not list the
 * endpoint yet and stopped, and A, which learned the endpoint, stopped before its back-fill covered them (here A
 * stays up, for its token issuer, but runs no relay, so it has no back-fill). A replica started afterwards covers
 * them, however long the stack stayed down: what the back-fill has covered is a mark in the store. Before, those
 * grants stayed NOT_REQUIRED for good (at first whatever the downtime; then after an hour's).
 */
const ENV = {
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_RETRY_SCHEDULE_SECONDS: '600',
  WEBHOOK_ENDPOINT_CACHE_MS: '60000',
};
const WAIT = { timeout: 30_000, interval: 50 };
const DOWNTIME_MS = 3 * 60 * 60_000;

describe('payout webhooks of transitions recorded without a new endpoint by replicas stopped since', () => {
  const apps: EventTestApp[] = [];
  const receivers: TestReceiver[] = [];

  afterAll(async () => {
    vi.useRealTimers();
    await Promise.all(receivers.map((receiver) => receiver.stop()));
    await Promise.all(apps.map((app) => app.close()));
  });

  /** A (no relay) and the endpoint made through it; B's grants, recorded without it; B stopped. */
  async function grantsRecordedWithoutEndpoint(name: string) {
    const receiver = await TestReceiver.start();
    receivers.push(receiver);
    const a = await startEventTestApp(name, { ...ENV, PAYOUT_RELAY_INTERVAL_MS: '0' });
    apps.push(a);
    const b = await startReplicaOf(a, name, { ...ENV, PAYOUT_RELAY_INTERVAL_MS: '0' });
    const admin: Actor = a.as('ADMIN');
    const operator: Actor = a.as('OPERATOR');
    const event = await createClaimableEvent(a, operator, { approval: 'AUTO' });
    const created = await a.request<{ id: string }>('POST', '/webhook-endpoints', {
      token: admin.token,
      body: { url: receiver.url, events: ['claim.granted'] },
    });
    expect(created.status).toBe(201);
    // B's copy (loaded at its start, refreshed a minute later) does not list the endpoint: its grants name none.
    const granted: string[] = [];
    for (const user of await eligibleUsers(a, operator, 3)) {
      const answer = await claim(b, event.id, user);
      expect(answer.body.status).toBe('GRANTED');
      granted.push(answer.body.id as string);
    }
    // A token minted at each read: the clock may have moved hours on since.
    const payoutOf = async (app: EventTestApp, id: string): Promise<string> =>
      (await app.request<{ payout: { status: string } }>('GET', `/claims/${id}`, { token: a.as('OPERATOR').token })).body.payout
        .status;
    for (const id of granted) expect(await payoutOf(a, id)).toBe('NOT_REQUIRED');
    await b.close();
    const start = async (env: Record<string, string> = {}): Promise<EventTestApp> => {
      const replica = await startReplicaOf(a, name, { ...ENV, PAYOUT_RELAY_INTERVAL_MS: '20', ...env });
      apps.push(replica);
      return replica;
    };
    const receivedIds = () => receiver.received.map((webhook) => (JSON.parse(webhook.body) as { data: { id: string } }).data.id);
    return { a, endpointId: created.body.id, granted, payoutOf, start, receivedIds };
  }

  it('are recorded and sent by a replica started afterwards', async () => {
    const { granted, payoutOf, start, receivedIds } = await grantsRecordedWithoutEndpoint('payout_first_load');
    const c = await start();
    await vi.waitFor(async () => {
      for (const id of granted) expect(await payoutOf(c, id)).toBe('DELIVERED');
    }, WAIT);
    expect(receivedIds().sort()).toEqual([...granted].sort());
  });

  it('are recorded and sent by a replica started afterwards when the endpoint took another event type meanwhile', async () => {
    const { a, endpointId, granted, payoutOf, start, receivedIds } =
      await grantsRecordedWithoutEndpoint('payout_first_load_patched');
    // The new type starts now; the grants B recorded before, of a type the endpoint already took, are still owed.
    const patched = await a.request('PATCH', `/webhook-endpoints/${endpointId}`, {
      token: a.as('ADMIN').token,
      body: { events: ['claim.granted', 'claim.revoked'] },
    });
    expect(patched.status).toBe(200);
    const c = await start();
    await vi.waitFor(async () => {
      for (const id of granted) expect(await payoutOf(c, id)).toBe('DELIVERED');
    }, WAIT);
    expect(receivedIds().sort()).toEqual([...granted].sort());
  });

  it('are recorded and sent by a replica started days later, once the endpoint took another event type, reading only the hours owed', async () => {
    const { a, endpointId, granted, payoutOf, start, receivedIds } =
      await grantsRecordedWithoutEndpoint('payout_first_load_days');
    // The stack runs on for three days (no replica starts, so no mark reaches the enabling's hour), then the endpoint
    // takes another event type: a start owes the hour after the enabling and the hour after that change, not the days
    // between them.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true, now: Date.now() + 3 * 24 * 60 * 60_000 });
    try {
      const patched = await a.request('PATCH', `/webhook-endpoints/${endpointId}`, {
        token: a.as('ADMIN').token,
        body: { events: ['claim.granted', 'claim.revoked'] },
      });
      expect(patched.status).toBe(200);
      const claimsRead = vi.spyOn(PayoutOutboxRepository.prototype, 'findClaimsSince');
      const decisionsRead = vi.spyOn(PayoutOutboxRepository.prototype, 'findDecisionsSince');
      const c = await start();
      await vi.waitFor(async () => {
        for (const id of granted) expect(await payoutOf(c, id)).toBe('DELIVERED');
      }, WAIT);
      expect(receivedIds().sort()).toEqual([...granted].sort());
      const cOutbox = c.app.get(PayoutOutboxRepository);
      for (const read of [claimsRead, decisionsRead]) {
        const spans = read.mock.calls
          .filter((_call, index) => read.mock.contexts[index] === cOutbox)
          .map(([since, , , before]) => (before?.getTime() ?? Infinity) - since.getTime());
        expect(spans.length).toBeGreaterThan(0);
        for (const span of spans) expect(span).toBeLessThanOrEqual(BACKFILL_HORIZON_MS);
      }
    } finally {
      vi.restoreAllMocks();
      vi.useRealTimers();
    }
  }, 60_000);

  it('are recorded and sent by a replica started afterwards whose first load of the endpoints failed', async () => {
    const { granted, payoutOf, start, receivedIds } = await grantsRecordedWithoutEndpoint('payout_first_load_failed');
    // The stack stays down a minute, and the replica started then finds the store away at its first load of the
    // endpoints (it serves claims from an empty copy until its next load, 200 ms later, succeeds).
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true, now: Date.now() + 60_000 });
    const firstLoad = vi
      .spyOn(WebhookEndpointRepository.prototype, 'findEnabled')
      .mockRejectedValueOnce(new Error('the store is away'));
    try {
      const c = await start({ WEBHOOK_ENDPOINT_CACHE_MS: '200' });
      await vi.waitFor(async () => {
        for (const id of granted) expect(await payoutOf(c, id)).toBe('DELIVERED');
      }, WAIT);
      expect(receivedIds().sort()).toEqual([...granted].sort());
    } finally {
      firstLoad.mockRestore();
      vi.useRealTimers();
    }
  }, 60_000);

  it('are sent once by a replica started after more than an hour down; a later start reads no transition again', async () => {
    const { endpointId, granted, payoutOf, start, receivedIds } = await grantsRecordedWithoutEndpoint('payout_backfill_mark');
    // The stack stays down for three hours: only the clock moves (timers run as before).
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true, now: Date.now() + DOWNTIME_MS });
    const c = await start();
    await vi.waitFor(async () => {
      for (const id of granted) expect(await payoutOf(c, id)).toBe('DELIVERED');
    }, WAIT);
    expect(receivedIds().sort()).toEqual([...granted].sort());

    // The pass left its mark at the horizon's end: the endpoint is covered for good.
    const endpoint = await c.app.get(WebhookEndpointRepository).findById(endpointId);
    const marks = c.app.get(PayoutBackfillMarkRepository);
    await vi.waitFor(async () => {
      const mark = await marks.coveredUntil(endpointId, endpoint!.enabledAt);
      expect(mark?.getTime()).toBe(endpoint!.enabledAt.getTime() + BACKFILL_HORIZON_MS);
    }, WAIT);
    // Another start looks at the mark and reads no claim or decision for that endpoint; nothing is sent twice.
    const passes = vi.spyOn(PayoutBackfill.prototype, 'pass');
    const claimsRead = vi.spyOn(PayoutOutboxRepository.prototype, 'findClaimsSince');
    const decisionsRead = vi.spyOn(PayoutOutboxRepository.prototype, 'findDecisionsSince');
    const marksRead = vi.spyOn(PayoutBackfillMarkRepository.prototype, 'coveredUntil');
    const endpointsRead = vi.spyOn(WebhookEndpointRepository.prototype, 'findById');
    const d = await start();
    const dBackfill = d.app.get(PayoutBackfill);
    const dOutbox = d.app.get(PayoutOutboxRepository);
    await vi.waitFor(() => expect(passes.mock.contexts).toContain(dBackfill), WAIT);
    const dPass = passes.mock.results[passes.mock.contexts.indexOf(dBackfill)];
    expect(await (dPass?.value as Promise<number>)).toBe(0);
    expect(claimsRead.mock.contexts).not.toContain(dOutbox);
    expect(decisionsRead.mock.contexts).not.toContain(dOutbox);
    // One read for the endpoint: its mark (the copy just loaded tells what it takes).
    expect(marksRead.mock.contexts.filter((marksOf) => marksOf === d.app.get(PayoutBackfillMarkRepository))).toHaveLength(1);
    expect(endpointsRead.mock.contexts).not.toContain(d.app.get(WebhookEndpointRepository));
    for (const id of granted) expect(await payoutOf(d, id)).toBe('DELIVERED');
    expect(receivedIds().sort()).toEqual([...granted].sort());
  }, 90_000);
});
