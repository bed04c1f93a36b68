import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ClaimFaults } from '../claims/claim-faults.js';
import { ClaimReconciler } from '../claims/claim-reconciler.service.js';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { type Actor, claim, createClaimableEvent, eligibleUsers } from '../testing/claim-test-kit.js';
import { type EventTestApp, newId, startEventTestApp } from '../testing/event-test-app.js';
import { makeDeliveryDue } from '../testing/delivery-state.js';
import { TestReceiver } from '../testing/webhook-test-receiver.js';
import { WebhookEndpointDirectory } from '../webhooks/webhook-endpoint.directory.js';
import { ClaimPayoutService } from './claim-payout.service.js';
import { DeliveryRepository } from './delivery.repository.js';
import { payoutOf } from './payout.rules.js';
import { PayoutOutboxRepository } from './payout-outbox.repository.js';
import { PayoutRelay } from './payout-relay.service.js';

const ENV = {
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_RETRY_SCHEDULE_SECONDS: '0.05,0.05,0.05,0.05',
  WEBHOOK_TIMEOUT_MS: '2000',
  CLAIM_RECONCILE_INTERVAL_MS: '0',
};

/** Three event servers on one database, as replicas: one whose relay runs, two whose relays do not. */
describe('payout across crashes and replicas', () => {
  let live: EventTestApp;
  let doomed: EventTestApp;
  let replica: EventTestApp;
  let receiver: TestReceiver;
  let token: (...roles: string[]) => Actor;

  beforeAll(async () => {
    receiver = await TestReceiver.start();
    live = await startEventTestApp('payout_recovery', { ...ENV, PAYOUT_RELAY_INTERVAL_MS: '20' });
    const dbName = live.app.get<EventConfig>(EVENT_CONFIG).database.dbName;
    replica = await startEventTestApp('payout_replica', { ...ENV, PAYOUT_RELAY_INTERVAL_MS: '0', EVENT_DB_NAME: dbName });
    doomed = await startEventTestApp('payout_doomed', { ...ENV, PAYOUT_RELAY_INTERVAL_MS: '0', EVENT_DB_NAME: dbName });
    // The JWT strategy is registered process-wide, so the last server started decides whose tokens verify.
    token = (...roles) => {
      const id = newId();
      return { id, token: doomed.issuer.token(id, roles) };
    };
  });

  afterAll(async () => {
    await doomed?.close().catch(() => undefined);
    await replica?.close();
    await live?.close();
    await receiver?.stop();
  });

  it('grants whose process dies right after recording them are delivered by another process, once', async () => {
    const admin = token('ADMIN');
    const operator = token('OPERATOR');
    const created = await live.request('POST', '/webhook-endpoints', {
      token: admin.token,
      body: { url: receiver.url, events: ['claim.granted'] },
    });
    expect(created.status).toBe(201);
    // The doomed server learns of the endpoint the way another replica would: its directory refreshes.
    await doomed.app.get(WebhookEndpointDirectory).refresh();

    // A limited reward: the claim is PROCESSING, then decided; the crash comes right after the decision.
    const limited = await createClaimableEvent(doomed, operator, {
      rewards: [{ type: 'POINT', name: 'P', quantity: 1, stock: 10 }],
    });
    // No limited reward: the claim is born decided; the crash comes right after its one insert.
    const unlimited = await createClaimableEvent(doomed, operator);
    const [user] = await eligibleUsers(doomed, operator, 1);
    const player = { ...user!, token: doomed.issuer.token(user!.id, ['USER']) };
    vi.spyOn(doomed.app.get(ClaimFaults), 'at').mockImplementation(async (step) => {
      if (step === 'decision-inserted' || step === 'claim-finished') throw new Error('injected crash');
    });
    expect((await claim(doomed, limited.id, player)).status).toBe(500);
    expect((await claim(doomed, unlimited.id, player)).status).toBe(500);
    vi.restoreAllMocks();
    await doomed.close();

    // Nothing was sent for the limited grant: its decision is not applied, so the live relay leaves it
    // alone until the reconciler (on any replica) applies it. The born grant needs nobody: it is final.
    await live.app.get(ClaimReconciler).reconcile({ staleAfterMs: 0, keyStaleAfterMs: 0 });
    for (const event of [limited, unlimited]) {
      const claims = await live.request<{ items: Array<{ id: string; status: string }> }>('GET', `/claims?eventId=${event.id}`, {
        token: operator.token,
      });
      expect(claims.body.items).toHaveLength(1);
      const granted = claims.body.items[0]!;
      expect(granted.status).toBe('GRANTED');
      const delivered = await vi.waitFor(
        async () => {
          const claimNow = await live.request<{ payout: { status: string } }>('GET', `/claims/${granted.id}`, {
            token: operator.token,
          });
          expect(claimNow.body.payout.status).toBe('DELIVERED');
          const list = await live.request<{ items: Array<{ id: string; webhookId: string; status: string }> }>(
            'GET',
            `/deliveries?claimId=${granted.id}`,
            { token: operator.token },
          );
          return list.body.items;
        },
        { timeout: 10_000, interval: 30 },
      );
      expect(delivered).toHaveLength(1);
      const [sent] = receiver.withId(delivered[0]!.webhookId);
      expect(receiver.withId(delivered[0]!.webhookId)).toHaveLength(1);
      expect(JSON.parse(sent!.body)).toMatchObject({ type: 'claim.granted', data: { id: granted.id, status: 'GRANTED' } });
    }
    // Leases exist only while an attempt is in flight: once recorded, the relay removes them.
    await vi.waitFor(async () => expect(await live.app.get(DeliveryRepository).countLeases()).toBe(0));
  });

  it('two relays handed the same due attempt at once send it once (the lease insert decides)', async () => {
    const repository = live.app.get(DeliveryRepository);
    const delivery = (await repository.findPage({}, 0, 1)).items[0]!;
    const before = receiver.withId(delivery.webhookId).length;
    receiver.answer = (_i, _w, res) => setTimeout(() => res.writeHead(200).end(), 50);
    // Pending again, due only in an hour: the running relay leaves it to the two handed it here.
    const due = (await makeDeliveryDue(live.app, delivery.id, new Date(Date.now() + 3600_000), delivery.attempts))!;
    await Promise.all([live.app.get(PayoutRelay).attempt(due), replica.app.get(PayoutRelay).attempt(due)]);
    expect(receiver.withId(delivery.webhookId)).toHaveLength(before + 1);
    const after = await repository.findById(delivery.id);
    expect(after).toMatchObject({ status: 'DELIVERED', attempts: delivery.attempts + 1 });
    // A relay still holding the stale copy wins the attempt's lease again (it was removed when recorded)
    // and sends nothing: the delivery has moved past that attempt.
    expect(await live.app.get(PayoutRelay).attempt(due)).toBe(false);
    expect(receiver.withId(delivery.webhookId)).toHaveLength(before + 1);
    expect(await repository.countLeases()).toBe(0);
  });

  it('an attempt whose sender died (its lease left behind) is counted as failed and retried, not lost', async () => {
    const repository = live.app.get(DeliveryRepository);
    const found = (await repository.findPage({}, 0, 1)).items[0]!;
    const delivery = (await makeDeliveryDue(live.app, found.id, new Date(Date.now() + 3600_000), found.attempts))!;
    const number = delivery.attempts + 1;
    // A relay took the lease of the next attempt a minute ago and never wrote its result.
    expect(await repository.tryLease(delivery.id, number, new Date(Date.now() - 60_000))).toBe(true);
    const before = receiver.withId(delivery.webhookId).length;
    await live.app.get(PayoutRelay).attempt(delivery);
    expect(receiver.withId(delivery.webhookId)).toHaveLength(before);
    // The dead attempt is recorded as failed; the next one has a lease of its own and the running relay
    // sends it (it may already have, a retry is due 50 ms later: the log shows both).
    const settled = await vi.waitFor(
      async () => {
        const now = await repository.findById(delivery.id);
        expect(now).toMatchObject({ status: 'DELIVERED', attempts: number + 1 });
        return now!;
      },
      { timeout: 10_000 },
    );
    expect(settled.log.slice(-2)).toMatchObject([
      { attempt: number, error: 'the sending process stopped mid-attempt' },
      { attempt: number + 1, statusCode: 200 },
    ]);
    expect(receiver.withId(delivery.webhookId)).toHaveLength(before + 1);
  });

  it('a summary another process was recomputing is recomputed again after it: the one written last is current', async () => {
    const repository = live.app.get(DeliveryRepository);
    const outbox = live.app.get(PayoutOutboxRepository);
    const found = (await repository.findPage({}, 0, 1)).items[0]!;
    const delivery = (await makeDeliveryDue(live.app, found.id, new Date(Date.now() + 3600_000), found.attempts))!;
    receiver.answer = (_i, _w, res) => res.writeHead(200).end();
    // Another replica is recomputing this claim's summary from deliveries it read before this attempt...
    await takeSummaryLease(outbox, delivery.claimId, () => new Date());
    expect(await replica.app.get(PayoutRelay).attempt(delivery)).toBe(true);
    // ...and writes its older summary after the attempt was recorded, then lets go.
    await outbox.setClaimPayouts(new Map([[delivery.claimId, { status: 'PENDING' as const, attempts: delivery.attempts }]]));
    await outbox.releaseSummaryLeases([{ claimId: delivery.claimId }]);
    const operator = token('OPERATOR');
    await vi.waitFor(
      async () => {
        const claimNow = await live.request<{ payout: unknown }>('GET', `/claims/${delivery.claimId}`, { token: operator.token });
        expect(claimNow.body.payout).toMatchObject({ status: 'DELIVERED', attempts: delivery.attempts + 1 });
      },
      { timeout: 10_000, interval: 30 },
    );
  });

  it('a summary whose recomputing process died (its lease left behind) is recomputed by the sweep', async () => {
    const repository = live.app.get(DeliveryRepository);
    const outbox = live.app.get(PayoutOutboxRepository);
    const stale = (await repository.findPage({}, 0, 1)).items[0]!.claimId;
    const busy = newId();
    // A process took the summary lease, changed a delivery, and died before writing the summary.
    await outbox.setClaimPayouts(new Map([[stale, { status: 'PENDING' as const, attempts: 0 }]]));
    await takeSummaryLease(outbox, stale, () => new Date(Date.now() - 60_000));
    // Another is recomputing right now: its lease is not the sweep's to take.
    expect(await outbox.trySummaryLeases([busy], new Date())).toEqual([true]);

    // (The live relay sweeps too, every 30 s: whichever sweep gets there, the outcome is the same.)
    await live.app.get(ClaimPayoutService).sweep();
    const operator = token('OPERATOR');
    const claimNow = await live.request<{ payout: { status: string; attempts: number } }>('GET', `/claims/${stale}`, {
      token: operator.token,
    });
    const expected = payoutOf(await repository.findByClaim(stale));
    expect(expected.status).not.toBe('PENDING');
    expect(claimNow.body.payout).toMatchObject({ status: expected.status, attempts: expected.attempts });
    const left = await outbox.summaryLeasesTakenBefore(new Date(Date.now() + 1_000));
    expect([...left.keys()]).toEqual([busy]);
    await outbox.releaseSummaryLeases([{ claimId: busy }]);
  });
});

/**
 * Takes a claim's summary lease as another process would. The live relay recomputes the summary of every
 * claim whose delivery it recorded (an earlier test's), under that same lease, and lets go when it is done,
 * later on a busy machine: the test waits for the lease to be free rather than assuming it is.
 */
async function takeSummaryLease(outbox: PayoutOutboxRepository, claimId: string, at: () => Date): Promise<void> {
  await vi.waitFor(async () => expect(await outbox.trySummaryLeases([claimId], at())).toEqual([true]), {
    timeout: 10_000,
    interval: 20,
  });
}
