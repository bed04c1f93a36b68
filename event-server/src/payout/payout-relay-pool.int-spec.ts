import type { ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Actor, claim, createClaimableEvent, eligibleUsers } from '../testing/claim-test-kit.js';
import { type EventTestApp, startEventTestApp } from '../testing/event-test-app.js';
import { TestReceiver } from '../testing/webhook-test-receiver.js';
import { WebhookEndpointDirectory } from '../webhooks/webhook-endpoint.directory.js';
import { deleteEveryEndpoint } from '../testing/payout-test-kit.js';

/**
 * Two send slots (one per endpoint at most), and a send timeout (60 s) longer than any test may last (30 s):
 * a send to the hanging receiver ends only when the test lets it (`release`), so nothing here depends on how
 * fast the machine is.
 */
const ENV = {
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  PAYOUT_RELAY_INTERVAL_MS: '20',
  PAYOUT_RELAY_CONCURRENCY: '2',
  WEBHOOK_RETRY_SCHEDULE_SECONDS: '600',
  WEBHOOK_TIMEOUT_MS: '60000',
  WEBHOOK_ENDPOINT_CACHE_MS: '60000',
};

interface Delivery {
  id: string;
  endpointId: string;
  status: string;
  attempts: number;
  lastError?: string;
}

describe('payout relay: a hanging receiver delays only its own webhooks', () => {
  let t: EventTestApp;
  let admin: Actor;
  let operator: Actor;
  let hanging: TestReceiver;
  let answering: TestReceiver;

  beforeAll(async () => {
    t = await startEventTestApp('payout_pool', ENV);
    admin = t.as('ADMIN');
    operator = t.as('OPERATOR');
    hanging = await TestReceiver.start();
    hanging.answer = (_index, _webhook, res) => void held.push(res); // answers only when released
    answering = await TestReceiver.start();
  });

  /** The requests the hanging receiver holds, answered 503 now (their sends end with that). */
  const held: ServerResponse[] = [];
  function release(): void {
    for (const res of held.splice(0)) res.writeHead(503).end();
  }

  afterEach(async () => {
    release();
    await deleteEveryEndpoint(t, admin);
  });

  afterAll(async () => {
    // The receivers go first: the sends they hold end at once, so the server need not wait for the timeout.
    await hanging?.stop();
    await answering?.stop();
    await t?.close();
  });

  async function subscribe(url: string, events: string[]): Promise<string> {
    const created = await t.request<{ id: string }>('POST', '/webhook-endpoints', { token: admin.token, body: { url, events } });
    expect(created.status).toBe(201);
    return created.body.id;
  }

  async function claimOf(approval: 'AUTO' | 'MANUAL'): Promise<string> {
    const event = await createClaimableEvent(t, operator, { approval });
    const [user] = await eligibleUsers(t, operator, 1);
    const answer = await claim(t, event.id, user!);
    expect(answer.status).toBe(201);
    return answer.body.id as string;
  }

  async function deliveriesTo(endpointId: string): Promise<Delivery[]> {
    const list = await t.request<{ items: Delivery[] }>('GET', `/deliveries?endpointId=${endpointId}&limit=100`, {
      token: operator.token,
    });
    return list.body.items;
  }

  it('another endpoint is delivered while a send to a hanging one is open', async () => {
    const slow = await subscribe(hanging.url, ['claim.granted']);
    await subscribe(answering.url, ['claim.pending']);
    for (let i = 0; i < 3; i += 1) await claimOf('AUTO');
    await vi.waitFor(() => expect(hanging.received.length).toBeGreaterThan(0), { timeout: 20_000, interval: 10 });

    // A grant for the other endpoint, decided while the hanging send is in flight (it is until released).
    const pending = await claimOf('MANUAL');
    await vi.waitFor(() => expect(answering.received.filter((webhook) => webhook.body.includes(pending))).toHaveLength(1), {
      timeout: 20_000,
      interval: 10,
    });
    // The hanging endpoint holds at most its share of the slots: one send, the other two wait.
    const slowDeliveries = await deliveriesTo(slow);
    expect(slowDeliveries).toHaveLength(3);
    for (const delivery of slowDeliveries) expect(delivery).toMatchObject({ status: 'PENDING', attempts: 0 });
    expect(hanging.received).toHaveLength(1);
  });

  /**
   * `count` grants to a new endpoint on the hanging receiver, disabled once the relay has sent it one, then the
   * receiver answers what it holds: the endpoint, the receiver's count before, and how many it was sent.
   */
  async function grantThenDisable(count: number): Promise<{ slow: string; before: number; sent: number }> {
    const slow = await subscribe(hanging.url, ['claim.granted']);
    const before = hanging.received.length;
    for (let i = 0; i < count; i += 1) await claimOf('AUTO');
    await vi.waitFor(() => expect(hanging.received.length).toBeGreaterThan(before), { timeout: 20_000, interval: 10 });
    const patched = await t.request('PATCH', `/webhook-endpoints/${slow}`, { token: admin.token, body: { enabled: false } });
    expect(patched.status).toBe(200);
    const sent = hanging.received.length - before;
    release();
    return { slow, before, sent };
  }

  it('disabling an endpoint stops its sends at once, also those already taken by the relay', async () => {
    // When disabled, the relay holds all three (one sending, two waiting for the endpoint's slot).
    const { slow, before, sent } = await grantThenDisable(3);

    // Each attempt ends: the ones sent before with the receiver's answer (a retry is scheduled, which will
    // find the endpoint disabled), the others without a request, as FAILED.
    const settled = await vi.waitFor(
      async () => {
        const deliveries = await deliveriesTo(slow);
        expect(deliveries).toHaveLength(3);
        for (const delivery of deliveries) expect(delivery.attempts).toBe(1);
        return deliveries;
      },
      { timeout: 20_000, interval: 30 },
    );
    expect(hanging.received).toHaveLength(before + sent);
    expect(settled.filter((delivery) => delivery.lastError?.startsWith('the receiver answered 503'))).toHaveLength(sent);
    const stopped = settled.filter((delivery) => delivery.lastError === 'the endpoint is disabled');
    expect(stopped).toHaveLength(3 - sent);
    for (const delivery of stopped) expect(delivery.status).toBe('FAILED');
  });

  it('a backlog larger than what the relay holds for one endpoint drains, to an enabled and to a disabled endpoint', async () => {
    // The relay holds at most 4 deliveries of one endpoint here (its share, 1 slot, times 4): 12 need 3 takes,
    // each started when the previous ones are recorded (before, the next waited for the relay's idle pause).
    const fast = await subscribe(answering.url, ['claim.granted']);
    for (let i = 0; i < 12; i += 1) await claimOf('AUTO');
    await vi.waitFor(
      async () => expect((await deliveriesTo(fast)).filter((delivery) => delivery.status === 'DELIVERED')).toHaveLength(12),
      { timeout: 20_000, interval: 50 },
    );
    await t.request('DELETE', `/webhook-endpoints/${fast}`, { token: admin.token });
    const { slow, sent } = await grantThenDisable(12);
    // The one sent before the PATCH gets a retry (which will find the endpoint disabled); the others end FAILED.
    await vi.waitFor(
      async () => expect((await deliveriesTo(slow)).filter((delivery) => delivery.status === 'FAILED')).toHaveLength(12 - sent),
      { timeout: 20_000, interval: 50 },
    );
  });

  it('a change to an endpoint made here never leaves it out of the subscribers while the copy reloads', async () => {
    const directory = t.app.get(WebhookEndpointDirectory);
    const id = await subscribe(answering.url, ['claim.granted']);
    const record = directory.cached(id)!;
    // A rename or a new secret: still subscribed at once (a decision recorded meanwhile gets its delivery).
    const renamed = directory.changed(id, { ...record, description: 'renamed' });
    expect(directory.subscribers('claim.granted')).toContain(id);
    expect(directory.cached(id)?.description).toBe('renamed');
    await renamed;
    expect(directory.subscribers('claim.granted')).toContain(id);
    // Disabled or deleted: left out at once.
    const disabled = directory.changed(id, { ...record, enabled: false });
    expect(directory.subscribers('claim.granted')).not.toContain(id);
    await disabled;
  });
});
