import { mongo } from 'mongoose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { claim, createClaimableEvent, eligibleUsers } from '../testing/claim-test-kit.js';
import { failNextAuditOf } from '../testing/failing-audit.js';
import { type EventTestApp, startReplicaOf } from '../testing/event-test-app.js';
import { usePayoutSpec } from '../testing/payout-test-kit.js';
import { DeliveryRepository } from './delivery.repository.js';
import { PayoutAuditSweep } from './payout-audit.sweep.js';

/**
 * A delivery retry, a send-pending and a retry-failed request written, their audit entries not (the store failed
 * between the two writes, or the process died there): the change stands (the delivery is PENDING again, the request
 * is worked off), so its entry must be written later, once. Before, nothing about it was left to record: the log
 * never said who sent those webhooks again.
 */
const ENV = {
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  PAYOUT_RELAY_INTERVAL_MS: '20',
  WEBHOOK_RETRY_SCHEDULE_SECONDS: '0.05',
  WEBHOOK_TIMEOUT_MS: '2000',
  WEBHOOK_ENDPOINT_CACHE_MS: '100',
  // No sweep but the one a replica runs when it starts.
  CLAIM_RECONCILE_INTERVAL_MS: '0',
};
const WAIT = { timeout: 15_000, interval: 50 };

interface Entry {
  action: string;
  actorId: string;
  targetId: string;
  changes: Record<string, unknown>;
}

describe('a payout change whose audit entry was not written', () => {
  const { t, operator, receiver, subscribe } = usePayoutSpec('payout_audit_rides', ENV);
  const auditor = { token: '' };
  const replicas: EventTestApp[] = [];

  afterEach(async () => {
    vi.restoreAllMocks();
    await Promise.all(replicas.splice(0).map((replica) => replica.close()));
  });

  async function entries(targetId: string, action: string): Promise<Entry[]> {
    auditor.token ||= t.as('AUDITOR').token;
    const trail = await t.request<{ items: Entry[] }>('GET', `/audit-logs?targetId=${targetId}&action=${action}&limit=100`, {
      token: auditor.token,
    });
    expect(trail.status).toBe(200);
    return trail.body.items;
  }

  /** A replica started on the same store (a crashed server restarted): its sweep at start records what was left. */
  async function restarted(): Promise<EventTestApp> {
    const replica = await startReplicaOf(t, 'payout_audit_rides', ENV);
    replicas.push(replica);
    return replica;
  }

  /** An endpoint whose receiver fails everything, and one delivery to it FAILED; the ids. */
  async function failedDelivery(): Promise<{ endpointId: string; deliveryId: string }> {
    receiver.answer = (_i, _w, res) => res.writeHead(500).end();
    const endpointId = await subscribe();
    const event = await createClaimableEvent(t, operator, { approval: 'AUTO' });
    const [user] = await eligibleUsers(t, operator, 1);
    expect((await claim(t, event.id, user!)).status).toBe(201);
    const deliveryId = await vi.waitFor(async () => {
      const list = await t.request<{ items: Array<{ id: string; status: string }> }>(
        'GET',
        `/deliveries?endpointId=${endpointId}&limit=100`,
        { token: operator.token },
      );
      expect(list.body.items.map((delivery) => delivery.status)).toEqual(['FAILED']);
      return list.body.items[0]!.id;
    }, WAIT);
    return { endpointId, deliveryId };
  }

  it('is written once for a delivery retry, by the sweep of a replica started afterwards', async () => {
    const { deliveryId } = await failedDelivery();
    receiver.answer = (_i, _w, res) => res.writeHead(204).end();
    failNextAuditOf(t, 'DELIVERY_RETRIED');
    const answer = await t.request('POST', `/deliveries/${deliveryId}/retry`, { token: operator.token });
    expect(answer.status).toBe(503);
    vi.restoreAllMocks();
    // The retry stands: the delivery was made PENDING again and sent.
    await vi.waitFor(async () => {
      const list = await t.request<{ items: Array<{ id: string; status: string }> }>('GET', `/deliveries?limit=100`, {
        token: operator.token,
      });
      expect(list.body.items.find((delivery) => delivery.id === deliveryId)?.status).toBe('DELIVERED');
    }, WAIT);
    expect(await entries(deliveryId, 'DELIVERY_RETRIED')).toHaveLength(0);

    await restarted();
    await vi.waitFor(async () => expect(await entries(deliveryId, 'DELIVERY_RETRIED')).toHaveLength(1), WAIT);
    await restarted();
    const [entry] = await entries(deliveryId, 'DELIVERY_RETRIED');
    expect(entry).toMatchObject({ actorId: operator.id, changes: { status: { before: 'FAILED', after: 'PENDING' } } });
    expect(await entries(deliveryId, 'DELIVERY_RETRIED')).toHaveLength(1);
  });

  it('is dropped unrecorded for a retry whose reschedule never happened', async () => {
    const { deliveryId } = await failedDelivery();
    const repository = t.app.get(DeliveryRepository);
    vi.spyOn(repository, 'rescheduleFailed').mockRejectedValueOnce(new mongo.MongoNetworkError('connection reset (injected)'));
    const answer = await t.request('POST', `/deliveries/${deliveryId}/retry`, { token: operator.token });
    expect(answer.status).toBe(503);
    vi.restoreAllMocks();
    const sweep = t.app.get(PayoutAuditSweep);
    // Its holder may still reschedule it: the entry waits.
    await sweep.sweep();
    expect((await repository.retriesCarryingAudit(100)).filter((retry) => retry.deliveryId === deliveryId)).toHaveLength(1);
    // Once its holder is taken for dead (the delivery still FAILED at that failure), nothing happened: no entry.
    await sweep.sweep(new Date(Date.now() + 31_000));
    expect((await repository.retriesCarryingAudit(100)).filter((retry) => retry.deliveryId === deliveryId)).toHaveLength(0);
    expect(await entries(deliveryId, 'DELIVERY_RETRIED')).toHaveLength(0);
  });

  it.each([
    ['send-pending', 'DELIVERIES_SEND_NOW_REQUESTED', 'pending'],
    ['retry-failed', 'DELIVERIES_RETRY_FAILED_REQUESTED', 'failed'],
  ])('is written once for a %s request, by the sweep of a replica started afterwards', async (route, action, field) => {
    const { endpointId } = await failedDelivery();
    failNextAuditOf(t, action);
    const answer = await t.request('POST', `/webhook-endpoints/${endpointId}/${route}`, { token: operator.token });
    expect(answer.status).toBe(503);
    vi.restoreAllMocks();
    expect(await entries(endpointId, action)).toHaveLength(0);

    await restarted();
    await vi.waitFor(async () => expect(await entries(endpointId, action)).toHaveLength(1), WAIT);
    await restarted();
    const [entry] = await entries(endpointId, action);
    expect(entry).toMatchObject({ actorId: operator.id, changes: { [field]: route === 'retry-failed' ? 1 : 0 } });
    expect(await entries(endpointId, action)).toHaveLength(1);
  });
});
