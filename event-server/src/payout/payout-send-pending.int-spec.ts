import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { describe, expect, it, vi } from 'vitest';
import { claim, createClaimableEvent, eligibleUsers } from '../testing/claim-test-kit.js';
import { type EventTestApp, newId, startEventTestApp } from '../testing/event-test-app.js';
import { makeDeliveryDue } from '../testing/delivery-state.js';
import { usePayoutSpec } from '../testing/payout-test-kit.js';
import { DeliveryRepository } from './delivery.repository.js';
import { PayoutRelay } from './payout-relay.service.js';

/**
 * A receiver that was down: after two failed attempts a delivery waits an hour for its third. Sending an
 * endpoint's pending deliveries now must not wait for it.
 */
const ENV = {
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  PAYOUT_RELAY_INTERVAL_MS: '20',
  WEBHOOK_RETRY_SCHEDULE_SECONDS: '0.05,3600,3600',
  WEBHOOK_TIMEOUT_MS: '2000',
  WEBHOOK_ENDPOINT_CACHE_MS: '100',
};
const WAIT = { timeout: 20_000, interval: 30 };
const HOUR_MS = 3600_000;

interface Delivery {
  id: string;
  status: string;
  attempts: number;
  webhookId: string;
  nextAttemptAt?: string;
  attemptLog: Array<{ attempt: number; statusCode?: number }>;
}

describe("sending an endpoint's pending deliveries now", () => {
  const { t, admin, operator, receiver, subscribe } = usePayoutSpec('payout_send_pending', ENV);

  /** A grant through `app` (the players and staff are the main app's: every replica trusts its tokens). */
  async function grant(app: EventTestApp = t): Promise<string> {
    const event = await createClaimableEvent(app, operator, { approval: 'AUTO' });
    const [user] = await eligibleUsers(t, operator, 1);
    const answer = await claim(app, event.id, user!);
    expect(answer.status).toBe(201);
    return answer.body.id as string;
  }

  async function deliveryOf(claimId: string, app: EventTestApp = t): Promise<Delivery> {
    const list = await app.request<{ items: Delivery[] }>('GET', `/deliveries?claimId=${claimId}`, { token: operator.token });
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    return list.body.items[0]!;
  }

  /** The claim's one delivery once it failed twice and waits about an hour for its next attempt. */
  async function waitingAnHour(claimId: string, app: EventTestApp = t): Promise<Delivery> {
    return vi.waitFor(async () => {
      const delivery = await deliveryOf(claimId, app);
      expect(delivery).toMatchObject({ status: 'PENDING', attempts: 2 });
      expect(Date.parse(delivery.nextAttemptAt!) - Date.now()).toBeGreaterThan(HOUR_MS / 2);
      return delivery;
    }, WAIT);
  }

  /** Whether the app's relay is done with the request (a look found nothing left of it). Test-only peek. */
  function relayDoneWith(app: EventTestApp, requestId: string): boolean {
    const relay = app.app.get(PayoutRelay) as unknown as { sendRequestsDone: Map<string, number> };
    return relay.sendRequestsDone.has(requestId);
  }

  function sendPending(endpointId: string, token = operator.token, app: EventTestApp = t, body?: unknown) {
    return app.request<Record<string, unknown>>('POST', `/webhook-endpoints/${endpointId}/send-pending`, {
      token,
      ...(body !== undefined && { body }),
    });
  }

  it('sends a delivery waiting for its next retry at once, with the same webhook-id, and audits the request', async () => {
    const endpointId = await subscribe();
    receiver.answer = (_i, _w, res) => res.writeHead(503).end();
    const claimId = await grant();
    const waiting = await waitingAnHour(claimId);

    receiver.answer = (_i, _w, res) => res.writeHead(204).end();
    const before = Date.now();
    const answer = await sendPending(endpointId);
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ endpointId, pending: 1 });
    expect(Date.parse(answer.body.requestedAt as string)).toBeGreaterThanOrEqual(before - 1000);

    const delivered = await vi.waitFor(async () => {
      const delivery = await deliveryOf(claimId);
      expect(delivery.status).toBe('DELIVERED');
      return delivery;
    }, WAIT);
    expect(delivered.attempts).toBe(3);
    expect(delivered.attemptLog.map((attempt) => attempt.statusCode)).toEqual([503, 503, 204]);
    // The same webhook, three times: the receiver dedupes by its id.
    expect(receiver.withId(waiting.webhookId)).toHaveLength(3);
    // The claim's payout summary follows its delivery (written right after the attempt).
    await vi.waitFor(async () => {
      const claimNow = await t.request<{ payout: { status: string } }>('GET', `/claims/${claimId}`, { token: operator.token });
      expect(claimNow.body.payout.status).toBe('DELIVERED');
    }, WAIT);

    const auditor = t.as('AUDITOR');
    const audit = await t.request<{ items: Array<Record<string, unknown>> }>(
      'GET',
      `/audit-logs?targetType=WebhookEndpoint&targetId=${endpointId}`,
      { token: auditor.token },
    );
    const entries = audit.body.items.filter((entry) => entry.action === 'DELIVERIES_SEND_NOW_REQUESTED');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actorId: operator.id, changes: { pending: 1 } });
  });

  it('starts the retry schedule over when the receiver is still down, and sends once per request', async () => {
    const endpointId = await subscribe();
    receiver.answer = (_i, _w, res) => res.writeHead(500).end();
    const claimId = await grant();
    const waiting = await waitingAnHour(claimId);

    expect((await sendPending(endpointId)).status).toBe(202);
    // The early attempt (3) restarts the schedule: attempt 4 comes 0.05 s later, then an hour's wait again.
    const after = await vi.waitFor(async () => {
      const delivery = await deliveryOf(claimId);
      expect(delivery).toMatchObject({ status: 'PENDING', attempts: 4 });
      expect(Date.parse(delivery.nextAttemptAt!) - Date.now()).toBeGreaterThan(HOUR_MS / 2);
      return delivery;
    }, WAIT);
    expect(after.attemptLog.map((attempt) => attempt.attempt)).toEqual([1, 2, 3, 4]);
    expect(receiver.withId(waiting.webhookId)).toHaveLength(4);

    // A second request: one more early attempt and its restarted schedule's first retry, no more.
    expect((await sendPending(endpointId, admin.token)).status).toBe(202);
    await vi.waitFor(async () => {
      const delivery = await deliveryOf(claimId);
      expect(delivery).toMatchObject({ status: 'PENDING', attempts: 6 });
      expect(Date.parse(delivery.nextAttemptAt!) - Date.now()).toBeGreaterThan(HOUR_MS / 2);
    }, WAIT);
    expect(receiver.withId(waiting.webhookId)).toHaveLength(6);
  });

  it("sends only the endpoint's own deliveries: another endpoint's go on waiting", async () => {
    const first = await subscribe();
    await subscribe();
    receiver.answer = (_i, _w, res) => res.writeHead(503).end();
    const claimId = await grant();
    const both = await vi.waitFor(async () => {
      const list = await t.request<{ items: Array<Delivery & { endpointId: string }> }>('GET', `/deliveries?claimId=${claimId}`, {
        token: operator.token,
      });
      expect(list.body.items).toHaveLength(2);
      for (const delivery of list.body.items) {
        expect(delivery).toMatchObject({ status: 'PENDING', attempts: 2 });
        expect(Date.parse(delivery.nextAttemptAt!) - Date.now()).toBeGreaterThan(HOUR_MS / 2);
      }
      return list.body.items;
    }, WAIT);
    receiver.answer = (_i, _w, res) => res.writeHead(204).end();
    expect((await sendPending(first)).body).toMatchObject({ pending: 1 });
    const other = both.find((delivery) => delivery.endpointId !== first)!;
    await vi.waitFor(async () => {
      const list = await t.request<{ items: Array<Delivery & { endpointId: string }> }>('GET', `/deliveries?claimId=${claimId}`, {
        token: operator.token,
      });
      const mine = list.body.items.find((delivery) => delivery.endpointId === first)!;
      expect(mine).toMatchObject({ status: 'DELIVERED', attempts: 3 });
      expect(list.body.items.find((delivery) => delivery.id === other.id)).toMatchObject({ status: 'PENDING', attempts: 2 });
    }, WAIT);
    const requests = await t.app.get(DeliveryRepository).latestSendRequests(new Date(0));
    const request = requests.find((candidate) => candidate.endpointId === first)!;
    await vi.waitFor(() => expect(relayDoneWith(t, request.id)).toBe(true), WAIT);
    const after = await t.request<{ items: Delivery[] }>('GET', `/deliveries?claimId=${claimId}`, { token: operator.token });
    expect(after.body.items.find((delivery) => delivery.id === other.id)).toMatchObject({ status: 'PENDING', attempts: 2 });
  });

  it('sends a delivery once for a request made on a replica whose clock is ahead (the request marks it)', async () => {
    const endpointId = await subscribe();
    receiver.answer = (_i, _w, res) => res.writeHead(503).end();
    const claimId = await grant();
    const waiting = await waitingAnHour(claimId);
    // As if taken by a replica whose clock is 5 s ahead: every attempt made here in the next 5 s is "before" it.
    const request = await t.app.get(DeliveryRepository).recordSendRequest(endpointId, operator.id, new Date(Date.now() + 5_000));
    t.app.get(PayoutRelay).sendNow(request);
    // One attempt for the request (3), the restarted schedule's first retry (4), then an hour's wait.
    await vi.waitFor(async () => {
      const delivery = await deliveryOf(claimId);
      expect(delivery).toMatchObject({ status: 'PENDING', attempts: 4 });
      expect(Date.parse(delivery.nextAttemptAt!) - Date.now()).toBeGreaterThan(HOUR_MS / 2);
      expect(relayDoneWith(t, request.id)).toBe(true);
    }, WAIT);
    expect(receiver.withId(waiting.webhookId)).toHaveLength(4);
  });

  it('still sends a delivery whose attempt a relay that died had begun before the request', async () => {
    const endpointId = await subscribe();
    receiver.answer = (_i, _w, res) => res.writeHead(503).end();
    const claimId = await grant();
    const waiting = await waitingAnHour(claimId);
    receiver.answer = (_i, _w, res) => res.writeHead(204).end();
    const repository = t.app.get(DeliveryRepository);
    // A relay leased attempt 3 a minute ago and died; the delivery is due (its next retry an hour after a failure).
    expect(await repository.tryLease(waiting.id, 3, new Date(Date.now() - 60_000))).toBe(true);
    const requestedAt = new Date();
    await makeDeliveryDue(t.app, waiting.id, requestedAt, 1);
    // The running relay finds the dead lease and records attempt 3 as cut off; nothing reached the receiver.
    await vi.waitFor(async () => {
      const delivery = await deliveryOf(claimId);
      expect(delivery).toMatchObject({ status: 'PENDING', attempts: 3 });
      expect(delivery.attemptLog.at(-1)).toMatchObject({ attempt: 3, error: 'the sending process stopped mid-attempt' });
    }, WAIT);
    expect(receiver.withId(waiting.webhookId)).toHaveLength(2);
    // A request made after the attempt began (and before it was found cut off) is still owed that attempt.
    t.app.get(PayoutRelay).sendNow(await repository.recordSendRequest(endpointId, operator.id, requestedAt));
    await vi.waitFor(async () => expect(await deliveryOf(claimId)).toMatchObject({ status: 'DELIVERED', attempts: 4 }), WAIT);
    expect(receiver.withId(waiting.webhookId)).toHaveLength(3);
  });

  it('answers 404 for an unknown endpoint, 409 for a disabled one, 400 for a body, and only to OPERATOR and ADMIN', async () => {
    const missing = await sendPending(newId());
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ statusCode: 404, code: 'WEBHOOK_ENDPOINT_NOT_FOUND' });
    expect((await sendPending('not-an-id')).status).toBe(400);

    const endpointId = await subscribe();
    const withBody = await sendPending(endpointId, operator.token, t, { endpointId });
    expect(withBody.status).toBe(400);
    for (const role of ['USER', 'AUDITOR']) {
      const refused = await sendPending(endpointId, t.as(role).token);
      expect(refused.status).toBe(403);
    }
    const patched = await t.request('PATCH', `/webhook-endpoints/${endpointId}`, {
      token: admin.token,
      body: { enabled: false },
    });
    expect(patched.status).toBe(200);
    const disabled = await sendPending(endpointId);
    expect(disabled.status).toBe(409);
    expect(disabled.body).toMatchObject({ code: 'DELIVERY_ENDPOINT_DISABLED', message: expect.stringMatching(/enable it/) });

    const auditor = t.as('AUDITOR');
    const audit = await t.request<{ items: Array<Record<string, unknown>> }>(
      'GET',
      `/audit-logs?targetType=WebhookEndpoint&targetId=${endpointId}&action=DELIVERIES_SEND_NOW_REQUESTED`,
      { token: auditor.token },
    );
    expect(audit.body.items).toHaveLength(0);
  });

  it("is carried out by the other replicas' relays, once, when the one that took it sends nothing", async () => {
    const dbName = t.app.get<Connection>(getConnectionToken()).name;
    const replica = (env: Record<string, string>) =>
      startEventTestApp('payout_send_pending', { ...ENV, ...env, EVENT_DB_NAME: dbName, AUTH_JWKS_URL: t.issuer.jwksUrl });
    // Replica A takes the requests and relays nothing (its relay is off); the main app and replica B both relay.
    const a = await replica({ PAYOUT_RELAY_INTERVAL_MS: '0' });
    const b = await replica({});
    try {
      const endpointId = await subscribe(a);
      receiver.answer = (_i, _w, res) => res.writeHead(502).end();
      const claimId = await grant(a);
      const waiting = await waitingAnHour(claimId, a);
      receiver.answer = (_i, _w, res) => res.writeHead(200).end();
      const answer = await sendPending(endpointId, operator.token, a);
      expect(answer.status).toBe(202);
      await vi.waitFor(async () => expect((await deliveryOf(claimId, a)).status).toBe('DELIVERED'), WAIT);
      // Both relays learn of the request (each polls) and look for what it is owed: it was sent once.
      const [request] = await a.app
        .get(DeliveryRepository)
        .latestSendRequests(new Date(Date.parse(answer.body.requestedAt as string)));
      await vi.waitFor(() => expect(relayDoneWith(t, request!.id) && relayDoneWith(b, request!.id)).toBe(true), WAIT);
      expect(receiver.withId(waiting.webhookId)).toHaveLength(3);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
