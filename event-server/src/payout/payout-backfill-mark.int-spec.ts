import { afterAll, describe, expect, it, vi } from 'vitest';
import { type Actor, claim, createClaimableEvent, eligibleUsers } from '../testing/claim-test-kit.js';
import { type EventTestApp, startEventTestApp, startReplicaOf } from '../testing/event-test-app.js';
import { TestReceiver } from '../testing/webhook-test-receiver.js';
import { WebhookEndpointRepository } from '../webhooks/webhook-endpoint.repository.js';
import { BACKFILL_HORIZON_MS, PayoutBackfill } from './payout-backfill.service.js';
import { PayoutBackfillMarkRepository } from './payout-backfill-mark.repository.js';
import { PayoutOutboxRepository } from './payout-outbox.repository.js';

/**
 * A whole stack stopped seconds after an endpoint's creation and down for more than an hour: replica B recorded
 * grants from a copy that did not list the endpoint yet, and nobody's back-fill ran before the stop (here A stays up
 * for its token issuer, but runs no relay, so it has no back-fill). A replica started after the downtime still owes
 * them: what the back-fill has covered is a mark in the store, not a window of an hour after the creation. Before,
 * a replica started more than an hour later took the endpoint for old news and the grants stayed NOT_REQUIRED.
 */
const ENV = {
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_RETRY_SCHEDULE_SECONDS: '600',
  WEBHOOK_ENDPOINT_CACHE_MS: '60000',
};
const WAIT = { timeout: 30_000, interval: 50 };
const DOWNTIME_MS = 3 * 60 * 60_000;

describe('payout webhooks owed after a stack stopped for longer than an hour', () => {
  const apps: EventTestApp[] = [];
  let receiver: TestReceiver | undefined;

  afterAll(async () => {
    vi.useRealTimers();
    await receiver?.stop();
    await Promise.all(apps.map((app) => app.close()));
  });

  it('are recorded and sent once by a replica started afterwards; a later start reads no transition again', async () => {
    receiver = await TestReceiver.start();
    const a = await startEventTestApp('payout_backfill_mark', { ...ENV, PAYOUT_RELAY_INTERVAL_MS: '0' });
    apps.push(a);
    const b = await startReplicaOf(a, 'payout_backfill_mark', { ...ENV, PAYOUT_RELAY_INTERVAL_MS: '0' });
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
    await b.close();

    // The stack stays down for three hours: only the clock moves (timers run as before).
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true, now: Date.now() + DOWNTIME_MS });
    const reader = a.as('OPERATOR');
    const payoutOf = async (app: EventTestApp, id: string): Promise<string> =>
      (await app.request<{ payout: { status: string } }>('GET', `/claims/${id}`, { token: reader.token })).body.payout.status;
    const c = await startReplicaOf(a, 'payout_backfill_mark', { ...ENV, PAYOUT_RELAY_INTERVAL_MS: '20' });
    apps.push(c);
    await vi.waitFor(async () => {
      for (const id of granted) expect(await payoutOf(c, id)).toBe('DELIVERED');
    }, WAIT);
    const receivedIds = () => receiver!.received.map((webhook) => (JSON.parse(webhook.body) as { data: { id: string } }).data.id);
    expect(receivedIds().sort()).toEqual([...granted].sort());

    // The pass left its mark at the horizon's end: the endpoint is covered for good.
    const endpoint = await c.app.get(WebhookEndpointRepository).findById(created.body.id);
    const marks = c.app.get(PayoutBackfillMarkRepository);
    await vi.waitFor(async () => {
      const mark = await marks.coveredUntil(created.body.id, endpoint!.enabledAt);
      expect(mark?.getTime()).toBe(endpoint!.enabledAt.getTime() + BACKFILL_HORIZON_MS);
    }, WAIT);
    // Another start looks at the mark and reads no claim or decision for that endpoint; nothing is sent twice.
    const passes = vi.spyOn(PayoutBackfill.prototype, 'pass');
    const claimsRead = vi.spyOn(PayoutOutboxRepository.prototype, 'findClaimsSince');
    const decisionsRead = vi.spyOn(PayoutOutboxRepository.prototype, 'findDecisionsSince');
    const d = await startReplicaOf(a, 'payout_backfill_mark', { ...ENV, PAYOUT_RELAY_INTERVAL_MS: '20' });
    apps.push(d);
    const dBackfill = d.app.get(PayoutBackfill);
    const dOutbox = d.app.get(PayoutOutboxRepository);
    await vi.waitFor(() => expect(passes.mock.contexts).toContain(dBackfill), WAIT);
    const dPass = passes.mock.results[passes.mock.contexts.indexOf(dBackfill)];
    expect(await (dPass?.value as Promise<number>)).toBe(0);
    expect(claimsRead.mock.contexts).not.toContain(dOutbox);
    expect(decisionsRead.mock.contexts).not.toContain(dOutbox);
    for (const id of granted) expect(await payoutOf(d, id)).toBe('DELIVERED');
    expect(receivedIds().sort()).toEqual([...granted].sort());
  }, 90_000);
});
