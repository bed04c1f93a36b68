import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { claim, createClaimableEvent, eligibleUsers } from '../testing/claim-test-kit.js';
import { usePayoutSpec } from '../testing/payout-test-kit.js';
import { TestReceiver } from '../testing/webhook-test-receiver.js';

/**
 * A 410 Gone speaks for the address that answered it. A receiver being moved (README: change the endpoint's url
 * rather than deleting it) is typically retired with a 410 at its old address, while an attempt begun before the
 * move (or sent by a replica whose copy still has the old url) is still in flight: that late 410 must not disable
 * the endpoint at its new address, and the webhook it was for is still owed there.
 */
describe('payout: a 410 from an address the endpoint no longer has', () => {
  // The timeout is long so that the held attempt is still waiting when the url has been changed.
  const { t, admin, operator, receiver } = usePayoutSpec('payout-stale-gone', {
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    PAYOUT_RELAY_INTERVAL_MS: '20',
    WEBHOOK_RETRY_SCHEDULE_SECONDS: '0.05,0.05,0.05',
    WEBHOOK_TIMEOUT_MS: '15000',
    WEBHOOK_ENDPOINT_CACHE_MS: '100',
  });
  const moved = TestReceiver.create();
  beforeAll(() => moved.listen());
  afterAll(() => moved.stop());

  it('does not disable the endpoint at its new url, and the webhook is delivered there', async () => {
    const held: ServerResponse[] = [];
    receiver.answer = (_i, _w, res) => held.push(res);
    const created = await t.request<{ id: string }>('POST', '/webhook-endpoints', {
      token: admin.token,
      body: { url: receiver.url, events: ['claim.granted'] },
    });
    expect(created.status).toBe(201);
    const endpointId = created.body.id;
    const event = await createClaimableEvent(t, operator);
    const [user] = await eligibleUsers(t, operator, 1);
    const granted = await claim(t, event.id, user!);
    expect(granted.status).toBe(201);
    await vi.waitFor(() => expect(held).toHaveLength(1), { timeout: 10_000, interval: 20 });

    const patched = await t.request('PATCH', `/webhook-endpoints/${endpointId}`, {
      token: admin.token,
      body: { url: moved.url },
    });
    expect(patched.status).toBe(200);
    // The old address is retired: it answers the attempt it held, and anything else, 410.
    receiver.answer = (_i, _w, res) => res.writeHead(410).end();
    held[0]!.writeHead(410).end();

    await vi.waitFor(() => expect(moved.received.length).toBeGreaterThanOrEqual(1), { timeout: 10_000, interval: 30 });
    const delivery = await vi.waitFor(
      async () => {
        const list = await t.request<{ items: Array<{ status: string; lastError?: string }> }>(
          'GET',
          `/deliveries?claimId=${granted.body.id as string}`,
          { token: operator.token },
        );
        const [only] = list.body.items;
        expect(only?.status).toBe('DELIVERED');
        return only!;
      },
      { timeout: 10_000, interval: 30 },
    );
    expect(delivery.status).toBe('DELIVERED');
    const endpoint = await t.request('GET', `/webhook-endpoints/${endpointId}`, { token: admin.token });
    expect(endpoint.body).toMatchObject({ enabled: true, url: moved.url });
    expect(endpoint.body).not.toHaveProperty('disabledReason');
  });
});
