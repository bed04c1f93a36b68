import { type Model, mongo } from 'mongoose';
import { getModelToken } from '@nestjs/mongoose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { failNextAuditOf } from '../testing/failing-audit.js';
import { type EventTestApp, startEventTestApp } from '../testing/event-test-app.js';
import { PendingAuditSweep } from './pending-audit.sweep.js';
import { WebhookEndpointEntity, WebhookEndpointRemovalEntity } from '../webhooks/webhook-endpoint.schema.js';

const baseEvent = {
  title: 'Audit recovery event',
  startAt: '2025-12-01T00:00:00+09:00',
  endAt: '2025-12-31T23:59:59+09:00',
  status: 'ACTIVE',
  approval: 'AUTO',
  condition: { type: 'LOGIN_DAYS', days: 3 },
};

interface Entry {
  action: string;
  actorId: string;
  changes: Record<string, { before: unknown; after: unknown }>;
}

/**
 * An event's change written, its audit entry not (the store failed between the two, or the process died there):
 * the change stands, so its entry must be written later, once: by the same change sent again, by the next change
 * of the event, or by the sweep when nobody sends anything. Before, a retry found nothing left to change and the
 * entry was never written.
 */
describe('an event change whose audit entry was not written', () => {
  let t: EventTestApp;
  let operator: { id: string; token: string };
  let auditor: { id: string; token: string };

  beforeAll(async () => {
    // No sweep but the test's own (the one at start finds nothing of these tests').
    t = await startEventTestApp('event-edit-audit', { CLAIM_RECONCILE_INTERVAL_MS: '0' });
    operator = t.as('OPERATOR');
    auditor = t.as('AUDITOR');
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    await t?.close();
  });

  async function created(): Promise<string> {
    const answer = await t.request<{ id: string }>('POST', '/events', { token: operator.token, body: baseEvent });
    expect(answer.status).toBe(201);
    return answer.body.id;
  }

  async function updates(id: string): Promise<Entry[]> {
    const trail = await t.request<{ items: Entry[] }>('GET', `/audit-logs?targetId=${id}&action=EVENT_UPDATED&limit=100`, {
      token: auditor.token,
    });
    expect(trail.status).toBe(200);
    return trail.body.items.reverse();
  }

  it('is written once by the same change sent again', async () => {
    const id = await created();
    failNextAuditOf(t, 'EVENT_UPDATED');
    const failed = await t.request('PATCH', `/events/${id}`, { token: operator.token, body: { title: 'Renamed' } });
    expect(failed.status).toBe(503);
    vi.restoreAllMocks();
    const stands = await t.request<{ title: string }>('GET', `/events/${id}`, { token: operator.token });
    expect(stands.body.title).toBe('Renamed');

    const again = await t.request('PATCH', `/events/${id}`, { token: operator.token, body: { title: 'Renamed' } });
    expect(again.status).toBe(200);
    const entries = await updates(id);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actorId: operator.id,
      changes: { title: { before: 'Audit recovery event', after: 'Renamed' } },
    });
    // Sent once more, and swept: still the one entry.
    await t.request('PATCH', `/events/${id}`, { token: operator.token, body: { title: 'Renamed' } });
    await t.app.get(PendingAuditSweep).sweep();
    expect(await updates(id)).toHaveLength(1);
  });

  it('is written by the next change of the event, before that change', async () => {
    const id = await created();
    failNextAuditOf(t, 'EVENT_UPDATED');
    expect((await t.request('PATCH', `/events/${id}`, { token: operator.token, body: { title: 'First' } })).status).toBe(503);
    vi.restoreAllMocks();
    const other = t.as('OPERATOR');
    const next = await t.request('PATCH', `/events/${id}`, { token: other.token, body: { status: 'INACTIVE' } });
    expect(next.status).toBe(200);
    const entries = await updates(id);
    expect(entries.map((entry) => [entry.actorId, Object.keys(entry.changes)])).toEqual([
      [operator.id, ['title']],
      [other.id, ['status']],
    ]);
  });

  it('is written by the sweep when nobody sends anything again', async () => {
    const id = await created();
    failNextAuditOf(t, 'EVENT_UPDATED');
    expect((await t.request('PATCH', `/events/${id}`, { token: operator.token, body: { title: 'Swept' } })).status).toBe(503);
    vi.restoreAllMocks();
    expect(await updates(id)).toHaveLength(0);
    await t.app.get(PendingAuditSweep).sweep();
    await t.app.get(PendingAuditSweep).sweep();
    const entries = await updates(id);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actorId: operator.id,
      changes: { title: { before: 'Audit recovery event', after: 'Swept' } },
    });
  });

  async function rewardUpdates(rewardId: string): Promise<Entry[]> {
    const trail = await t.request<{ items: Entry[] }>('GET', `/audit-logs?targetId=${rewardId}&action=REWARD_UPDATED&limit=100`, {
      token: auditor.token,
    });
    expect(trail.status).toBe(200);
    return trail.body.items.reverse();
  }

  async function createdReward(): Promise<{ eventId: string; rewardId: string }> {
    const eventId = await created();
    const reward = await t.request<{ id: string }>('POST', `/events/${eventId}/rewards`, {
      token: operator.token,
      body: { type: 'POINT', name: 'Points', quantity: 100, stock: 5 },
    });
    expect(reward.status).toBe(201);
    return { eventId, rewardId: reward.body.id };
  }

  it("is written for a reward's stock top-up by the same top-up sent again, or by the next change", async () => {
    const { eventId, rewardId } = await createdReward();
    failNextAuditOf(t, 'REWARD_UPDATED');
    const topUp = { stock: 10 };
    const url = `/events/${eventId}/rewards/${rewardId}`;
    expect((await t.request('PATCH', url, { token: operator.token, body: topUp })).status).toBe(503);
    vi.restoreAllMocks();
    expect((await t.request('PATCH', url, { token: operator.token, body: topUp })).status).toBe(200);
    expect(await rewardUpdates(rewardId)).toMatchObject([{ actorId: operator.id, changes: { stock: { before: 5, after: 10 } } }]);

    failNextAuditOf(t, 'REWARD_UPDATED');
    expect((await t.request('PATCH', url, { token: operator.token, body: { stock: 20 } })).status).toBe(503);
    vi.restoreAllMocks();
    expect((await t.request('PATCH', url, { token: operator.token, body: { name: 'More points' } })).status).toBe(200);
    expect((await rewardUpdates(rewardId)).map((entry) => entry.changes)).toEqual([
      { stock: { before: 5, after: 10 } },
      { stock: { before: 10, after: 20 } },
      { name: { before: 'Points', after: 'More points' } },
    ]);
  });

  it("is written for a reward's change by the sweep when nobody sends anything again", async () => {
    const { eventId, rewardId } = await createdReward();
    failNextAuditOf(t, 'REWARD_UPDATED');
    const url = `/events/${eventId}/rewards/${rewardId}`;
    expect((await t.request('PATCH', url, { token: operator.token, body: { stock: 7 } })).status).toBe(503);
    vi.restoreAllMocks();
    expect(await rewardUpdates(rewardId)).toHaveLength(0);
    await t.app.get(PendingAuditSweep).sweep();
    await t.app.get(PendingAuditSweep).sweep();
    expect(await rewardUpdates(rewardId)).toMatchObject([{ actorId: operator.id, changes: { stock: { before: 5, after: 7 } } }]);
  });

  /** The entries of `action` about `targetId`, oldest first. */
  async function entriesOf(targetId: string, action: string): Promise<Entry[]> {
    const trail = await t.request<{ items: Entry[] }>('GET', `/audit-logs?targetId=${targetId}&action=${action}&limit=100`, {
      token: auditor.token,
    });
    expect(trail.status).toBe(200);
    return trail.body.items.reverse();
  }

  /** The id of the one event titled `title` (a create answered 503 gives none). */
  async function eventTitled(title: string): Promise<string> {
    const listed = await t.request<{ items: Array<{ id: string; title: string }> }>('GET', '/events?limit=100', {
      token: operator.token,
    });
    const found = listed.body.items.filter((event) => event.title === title);
    expect(found).toHaveLength(1);
    return (found[0] as { id: string }).id;
  }

  it("is written for an event's creation by the sweep, or by the event's next change before that change", async () => {
    failNextAuditOf(t, 'EVENT_CREATED');
    const swept = { ...baseEvent, title: 'Created, entry swept' };
    expect((await t.request('POST', '/events', { token: operator.token, body: swept })).status).toBe(503);
    vi.restoreAllMocks();
    const sweptId = await eventTitled(swept.title);
    expect(await entriesOf(sweptId, 'EVENT_CREATED')).toHaveLength(0);
    await t.app.get(PendingAuditSweep).sweep();
    await t.app.get(PendingAuditSweep).sweep();
    expect(await entriesOf(sweptId, 'EVENT_CREATED')).toMatchObject([
      { actorId: operator.id, changes: { title: { before: null, after: swept.title } } },
    ]);

    failNextAuditOf(t, 'EVENT_CREATED');
    const changed = { ...baseEvent, title: 'Created, entry by the next change' };
    expect((await t.request('POST', '/events', { token: operator.token, body: changed })).status).toBe(503);
    vi.restoreAllMocks();
    const changedId = await eventTitled(changed.title);
    const other = t.as('OPERATOR');
    expect((await t.request('PATCH', `/events/${changedId}`, { token: other.token, body: { status: 'INACTIVE' } })).status).toBe(
      200,
    );
    const trail = await t.request<{ items: Entry[] }>('GET', `/audit-logs?targetId=${changedId}&limit=100`, {
      token: auditor.token,
    });
    expect(trail.body.items.reverse().map((entry) => [entry.action, entry.actorId])).toEqual([
      ['EVENT_CREATED', operator.id],
      ['EVENT_UPDATED', other.id],
    ]);
  });

  it("is written for a reward's creation by the sweep, or by the reward's next change before that change", async () => {
    const eventId = await created();
    const rewardNamed = async (name: string): Promise<string> => {
      const listed = await t.request<Array<{ id: string; name: string }>>('GET', `/events/${eventId}/rewards`, {
        token: operator.token,
      });
      const found = listed.body.filter((reward) => reward.name === name);
      expect(found).toHaveLength(1);
      return (found[0] as { id: string }).id;
    };
    const add = (name: string) =>
      t.request('POST', `/events/${eventId}/rewards`, {
        token: operator.token,
        body: { type: 'POINT', name, quantity: 1, stock: 3 },
      });

    failNextAuditOf(t, 'REWARD_CREATED');
    expect((await add('Swept points')).status).toBe(503);
    vi.restoreAllMocks();
    const swept = await rewardNamed('Swept points');
    expect(await entriesOf(swept, 'REWARD_CREATED')).toHaveLength(0);
    await t.app.get(PendingAuditSweep).sweep();
    await t.app.get(PendingAuditSweep).sweep();
    expect(await entriesOf(swept, 'REWARD_CREATED')).toMatchObject([
      { actorId: operator.id, changes: { eventId: { before: null, after: eventId }, stock: { before: null, after: 3 } } },
    ]);

    failNextAuditOf(t, 'REWARD_CREATED');
    expect((await add('Changed points')).status).toBe(503);
    vi.restoreAllMocks();
    const changed = await rewardNamed('Changed points');
    const topUp = await t.request('PATCH', `/events/${eventId}/rewards/${changed}`, {
      token: operator.token,
      body: { stock: 4 },
    });
    expect(topUp.status).toBe(200);
    const trail = await t.request<{ items: Entry[] }>('GET', `/audit-logs?targetId=${changed}&limit=100`, {
      token: auditor.token,
    });
    expect(trail.body.items.reverse().map((entry) => entry.action)).toEqual(['REWARD_CREATED', 'REWARD_UPDATED']);
  });

  it("is written for a webhook endpoint's creation by the sweep", async () => {
    const admin = t.as('ADMIN');
    failNextAuditOf(t, 'WEBHOOK_ENDPOINT_CREATED');
    const url = 'http://127.0.0.1:9/created-hook';
    const made = await t.request('POST', '/webhook-endpoints', { token: admin.token, body: { url, events: ['claim.granted'] } });
    expect(made.status).toBe(503);
    vi.restoreAllMocks();
    const listed = await t.request<{ items: Array<{ id: string; url: string }> }>('GET', '/webhook-endpoints?limit=100', {
      token: admin.token,
    });
    const id = listed.body.items.find((endpoint) => endpoint.url === url)?.id as string;
    expect(id).toBeDefined();
    expect(await entriesOf(id, 'WEBHOOK_ENDPOINT_CREATED')).toHaveLength(0);
    await t.app.get(PendingAuditSweep).sweep();
    await t.app.get(PendingAuditSweep).sweep();
    expect(await entriesOf(id, 'WEBHOOK_ENDPOINT_CREATED')).toMatchObject([{ actorId: admin.id }]);
  });

  it("is written for a webhook endpoint's change by the same change sent again, or by the sweep", async () => {
    const admin = t.as('ADMIN');
    const endpoint = await t.request<{ id: string }>('POST', '/webhook-endpoints', {
      token: admin.token,
      body: { url: 'http://127.0.0.1:9/hook', events: ['claim.granted'] },
    });
    expect(endpoint.status).toBe(201);
    const url = `/webhook-endpoints/${endpoint.body.id}`;
    const endpointUpdates = async (): Promise<Entry[]> => {
      const trail = await t.request<{ items: Entry[] }>(
        'GET',
        `/audit-logs?targetId=${endpoint.body.id}&action=WEBHOOK_ENDPOINT_UPDATED&limit=100`,
        { token: auditor.token },
      );
      return trail.body.items.reverse();
    };

    failNextAuditOf(t, 'WEBHOOK_ENDPOINT_UPDATED');
    expect((await t.request('PATCH', url, { token: admin.token, body: { enabled: false } })).status).toBe(503);
    vi.restoreAllMocks();
    expect((await t.request('PATCH', url, { token: admin.token, body: { enabled: false } })).status).toBe(200);
    expect((await endpointUpdates()).map((entry) => entry.changes)).toEqual([{ enabled: { before: true, after: false } }]);

    failNextAuditOf(t, 'WEBHOOK_ENDPOINT_UPDATED');
    expect((await t.request('PATCH', url, { token: admin.token, body: { description: 'game server' } })).status).toBe(503);
    vi.restoreAllMocks();
    await t.app.get(PendingAuditSweep).sweep();
    await t.app.get(PendingAuditSweep).sweep();
    expect((await endpointUpdates()).map((entry) => entry.changes)).toEqual([
      { enabled: { before: true, after: false } },
      { description: { before: null, after: 'game server' } },
    ]);
  });

  it("is written once for a webhook endpoint's deletion by the removal sent again, or by the sweep; never for a delete that failed", async () => {
    const admin = t.as('ADMIN');
    const newEndpoint = async (): Promise<string> => {
      const answer = await t.request<{ id: string }>('POST', '/webhook-endpoints', {
        token: admin.token,
        body: { url: 'http://127.0.0.1:9/hook', events: ['claim.granted'], description: 'to delete' },
      });
      expect(answer.status).toBe(201);
      return answer.body.id;
    };
    const deletions = async (id: string): Promise<Entry[]> => {
      const trail = await t.request<{ items: Entry[] }>(
        'GET',
        `/audit-logs?targetId=${id}&action=WEBHOOK_ENDPOINT_DELETED&limit=100`,
        { token: auditor.token },
      );
      return trail.body.items;
    };
    // The URL as the audit log shows one (its path hashed: withAuditedUrls).
    const asDeleted = {
      url: { before: expect.stringMatching(/^http:\/\/127\.0\.0\.1:9\/\.\.\. \(sha256 [0-9a-f]+\)$/), after: null },
      events: { before: ['claim.granted'], after: null },
      description: { before: 'to delete', after: null },
      enabled: { before: true, after: null },
    };

    // The entry failed after the delete: the removal sent again (404) records it.
    const first = await newEndpoint();
    failNextAuditOf(t, 'WEBHOOK_ENDPOINT_DELETED');
    expect((await t.request('DELETE', `/webhook-endpoints/${first}`, { token: admin.token })).status).toBe(503);
    vi.restoreAllMocks();
    expect((await t.request('GET', `/webhook-endpoints/${first}`, { token: admin.token })).status).toBe(404);
    expect(await deletions(first)).toEqual([]);
    expect((await t.request('DELETE', `/webhook-endpoints/${first}`, { token: admin.token })).status).toBe(404);
    expect((await t.request('DELETE', `/webhook-endpoints/${first}`, { token: admin.token })).status).toBe(404);
    expect(await deletions(first)).toMatchObject([{ actorId: admin.id, changes: asDeleted }]);

    // The same, nobody sending it again: the sweep records it, once.
    const second = await newEndpoint();
    failNextAuditOf(t, 'WEBHOOK_ENDPOINT_DELETED');
    expect((await t.request('DELETE', `/webhook-endpoints/${second}`, { token: admin.token })).status).toBe(503);
    vi.restoreAllMocks();
    await t.app.get(PendingAuditSweep).sweep();
    await t.app.get(PendingAuditSweep).sweep();
    expect(await deletions(second)).toMatchObject([{ actorId: admin.id, changes: asDeleted }]);

    // The delete itself failed after its removal was written: the endpoint stands, and no deletion is recorded,
    // by the sweep or later; deleting it afterwards records that deletion, once.
    const third = await newEndpoint();
    const endpoints = t.app.get<Model<WebhookEndpointEntity>>(getModelToken(WebhookEndpointEntity.name));
    vi.spyOn(endpoints, 'findByIdAndDelete').mockImplementationOnce(() => {
      throw new mongo.MongoNetworkError('connection reset (injected)');
    });
    expect((await t.request('DELETE', `/webhook-endpoints/${third}`, { token: admin.token })).status).toBe(503);
    vi.restoreAllMocks();
    await t.app.get(PendingAuditSweep).sweep();
    expect((await t.request('GET', `/webhook-endpoints/${third}`, { token: admin.token })).status).toBe(200);
    expect(await deletions(third)).toEqual([]);
    const deletedFrom = Date.now();
    expect((await t.request('DELETE', `/webhook-endpoints/${third}`, { token: admin.token })).status).toBe(204);
    // The removal's time is the deletion's, not the failed one's (the relay fails the deliveries made before it).
    const removals = t.app.get<Model<WebhookEndpointRemovalEntity>>(getModelToken(WebhookEndpointRemovalEntity.name));
    const removal = await removals.findById(third).lean<{ at: Date }>().exec();
    expect(removal?.at.getTime()).toBeGreaterThanOrEqual(deletedFrom);
    await t.app.get(PendingAuditSweep).sweep();
    expect(await deletions(third)).toMatchObject([{ actorId: admin.id, changes: asDeleted }]);
  });
});
