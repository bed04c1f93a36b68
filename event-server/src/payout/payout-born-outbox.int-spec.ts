import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, claim, createClaimableEvent, eligibleUsers } from '../testing/claim-test-kit.js';
import { type EventTestApp, startEventTestApp } from '../testing/event-test-app.js';
import { TestReceiver } from '../testing/webhook-test-receiver.js';
import { PayoutRelay } from './payout-relay.service.js';

interface Delivery {
  type: string;
  webhookId: string;
  status: string;
}

/**
 * A claim born decided carries its own webhook; a decision made on it before the relay has read that
 * outbox (an operator approving or revoking at once) must not change what the first webhook announces.
 * The relay's loop is off here, so the decision always comes first: each test runs the relay by hand.
 */
describe('payout of a claim decided again before the relay read it', () => {
  let t: EventTestApp;
  let admin: Actor;
  let operator: Actor;
  let receiver: TestReceiver;
  let relay: PayoutRelay;

  beforeAll(async () => {
    receiver = await TestReceiver.start();
    t = await startEventTestApp('payout_born', {
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      PAYOUT_RELAY_INTERVAL_MS: '0',
      WEBHOOK_TIMEOUT_MS: '2000',
    });
    admin = t.as('ADMIN');
    operator = t.as('OPERATOR');
    relay = t.app.get(PayoutRelay);
    const endpoint = await t.request('POST', '/webhook-endpoints', {
      token: admin.token,
      body: { url: receiver.url, events: ['claim.granted', 'claim.revoked', 'claim.pending'] },
    });
    expect(endpoint.status).toBe(201);
  });

  afterAll(async () => {
    await t?.close();
    await receiver?.stop();
  });

  /** Runs the relay by hand until its outbox is empty and every delivery was attempted; the claim's deliveries. */
  async function relayed(claimId: string): Promise<Delivery[]> {
    for (let round = 0; round < 10 && (await relay.expandOutbox()).waiting > 0; round++);
    expect((await relay.expandOutbox()).waiting).toBe(0);
    await relay.sendDue(new Date(Date.now() + 1_000));
    const list = await t.request<{ items: Delivery[] }>('GET', `/deliveries?claimId=${claimId}`, { token: operator.token });
    expect(list.status).toBe(200);
    return list.body.items;
  }

  /** The payload a delivery sent, as the receiver got it. */
  function sent(delivery: Delivery): { type: string; data: { status: string; decidedAt?: string; createdAt: string } } {
    const [webhook] = receiver.withId(delivery.webhookId);
    expect(webhook).toBeDefined();
    return JSON.parse(webhook!.body);
  }

  /** A player's claim (born `born`), then at once the operator's `decision` on it, before any relay ran; its id. */
  async function decidedAtOnce(
    approval: 'AUTO' | 'MANUAL',
    born: string,
    decision: 'approve' | 'revoke',
    body?: Record<string, unknown>,
  ): Promise<string> {
    const event = await createClaimableEvent(t, operator, { approval });
    const [player] = await eligibleUsers(t, operator, 1);
    const made = await claim(t, event.id, player!);
    expect(made.body.status).toBe(born);
    const claimId = made.body.id as string;
    const decided = await t.request('POST', `/claims/${claimId}/${decision}`, { token: operator.token, ...(body && { body }) });
    expect(decided.status).toBe(200);
    return claimId;
  }

  it('a MANUAL claim approved at once: claim.pending (the claim) then claim.granted (the approval), each once', async () => {
    const claimId = await decidedAtOnce('MANUAL', 'PENDING', 'approve');
    const deliveries = await relayed(claimId);
    expect(deliveries.map((delivery) => delivery.type).sort()).toEqual(['claim.granted', 'claim.pending']);
    const pending = deliveries.find((delivery) => delivery.type === 'claim.pending')!;
    const granted = deliveries.find((delivery) => delivery.type === 'claim.granted')!;
    expect(pending.webhookId).toBe(claimId);
    expect(granted.webhookId).not.toBe(claimId);
    for (const delivery of deliveries) expect(delivery.status).toBe('DELIVERED');
    const born = sent(pending);
    expect(born).toMatchObject({ type: 'claim.pending', data: { status: 'PENDING' } });
    // Not decided yet, as the claim itself reads then; the grant is.
    expect(born.data).not.toHaveProperty('decidedAt');
    expect(sent(granted)).toMatchObject({ type: 'claim.granted', data: { status: 'GRANTED' } });
    expect(typeof sent(granted).data.decidedAt).toBe('string');
  });

  it('an AUTO grant revoked at once: claim.granted (the claim) then claim.revoked (the revocation), each once', async () => {
    const claimId = await decidedAtOnce('AUTO', 'GRANTED', 'revoke', { note: 'fraud' });
    const deliveries = await relayed(claimId);
    expect(deliveries.map((delivery) => delivery.type).sort()).toEqual(['claim.granted', 'claim.revoked']);
    const granted = deliveries.find((delivery) => delivery.type === 'claim.granted')!;
    const revocation = deliveries.find((delivery) => delivery.type === 'claim.revoked')!;
    expect(granted.webhookId).toBe(claimId);
    expect(sent(granted)).toMatchObject({ type: 'claim.granted', data: { status: 'GRANTED' } });
    expect(sent(granted).data).not.toHaveProperty('note');
    expect(sent(revocation)).toMatchObject({ type: 'claim.revoked', data: { status: 'REVOKED', note: 'fraud' } });
  });
});
