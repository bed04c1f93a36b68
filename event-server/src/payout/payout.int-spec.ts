import { createHash } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifyWebhook, WebhookVerificationError } from '@reward/sdk';
import { type Actor, claim, createClaimableEvent, eligibleUsers } from '../testing/claim-test-kit.js';
import { AuditLogRepository } from '../audit/audit-log.repository.js';
import { type EventTestApp, newId, startEventTestApp } from '../testing/event-test-app.js';
import { expectRefusedLate, holdEditLock, pastStartByWhileWaiting } from '../testing/held-edit-lock.js';
import { usePayoutSpec } from '../testing/payout-test-kit.js';
import { TestReceiver } from '../testing/webhook-test-receiver.js';
import { ClaimLoad } from './claim-load.js';
import { DeliveryRepository } from './delivery.repository.js';
import { PayoutOutboxRepository } from './payout-outbox.repository.js';
import { sendWebhook } from './webhook-sender.js';
import { WebhookEndpointRepository } from '../webhooks/webhook-endpoint.repository.js';
import { MAX_PREVIOUS_SECRETS } from '../webhooks/webhook-secret.js';

/** Fast relay and a short retry schedule (three retries) so the whole life of a delivery fits in a test. */
const FAST = {
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  PAYOUT_RELAY_INTERVAL_MS: '20',
  WEBHOOK_RETRY_SCHEDULE_SECONDS: '0.05,0.05,0.05',
  WEBHOOK_TIMEOUT_MS: '500',
  WEBHOOK_ENDPOINT_CACHE_MS: '100',
};

interface Endpoint {
  id: string;
  secret: string;
}

interface Delivery {
  id: string;
  status: string;
  attempts: number;
  webhookId: string;
  type: string;
  attemptLog: Array<{ attempt: number; statusCode?: number; error?: string; latencyMs: number }>;
  lastError?: string;
  lastStatusCode?: number;
  lastLatencyMs?: number;
}

describe('payout webhooks', () => {
  const { t, admin, operator, receiver } = usePayoutSpec('payout', FAST);

  async function subscribe(events = ['claim.granted', 'claim.revoked', 'claim.pending'], url = receiver.url): Promise<Endpoint> {
    const created = await t.request<Endpoint>('POST', '/webhook-endpoints', { token: admin.token, body: { url, events } });
    expect(created.status).toBe(201);
    return created.body;
  }

  async function grantedClaim(
    options: { approval?: 'AUTO' | 'MANUAL' } = {},
  ): Promise<{ id: string; body: Record<string, unknown>; player: { token: string } }> {
    const event = await createClaimableEvent(t, operator, options);
    const [user] = await eligibleUsers(t, operator, 1);
    const answer = await claim(t, event.id, user!);
    expect(answer.status).toBe(201);
    return { id: answer.body.id as string, body: answer.body, player: user! };
  }

  /** A grant whose one delivery (to an endpoint subscribed to grants, its receiver answering 500) ended FAILED. */
  async function failedGrant(): Promise<{
    endpoint: Endpoint;
    granted: Awaited<ReturnType<typeof grantedClaim>>;
    failed: Delivery;
  }> {
    const endpoint = await subscribe(['claim.granted']);
    receiver.answer = (_i, _w, res) => res.writeHead(500).end();
    const granted = await grantedClaim();
    const [failed] = await settled(granted.id);
    return { endpoint, granted, failed: failed! };
  }

  async function deliveriesOf(claimId: string): Promise<Delivery[]> {
    const list = await t.request<{ items: Delivery[] }>('GET', `/deliveries?claimId=${claimId}`, { token: operator.token });
    expect(list.status).toBe(200);
    return list.body.items;
  }

  async function settled(claimId: string, count = 1): Promise<Delivery[]> {
    return vi.waitFor(
      async () => {
        const deliveries = await deliveriesOf(claimId);
        expect(deliveries).toHaveLength(count);
        for (const delivery of deliveries) expect(delivery.status).not.toBe('PENDING');
        return deliveries;
      },
      { timeout: 10_000, interval: 30 },
    );
  }

  describe('endpoints', () => {
    it('creates with a secret shown once, lists, changes, rotates and deletes, each change audited', async () => {
      const created = await t.request<Record<string, unknown>>('POST', '/webhook-endpoints', {
        token: admin.token,
        body: { url: receiver.url, events: ['claim.granted'], description: 'game A' },
      });
      expect(created.status).toBe(201);
      expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(created.body).toMatchObject({ url: receiver.url, events: ['claim.granted'], enabled: true });
      const id = created.body.id as string;
      const got = await t.request('GET', `/webhook-endpoints/${id}`, { token: admin.token });
      expect(got.status).toBe(200);
      expect(got.body).not.toHaveProperty('secret');
      expect(got.body).not.toHaveProperty('secrets');
      const patched = await t.request('PATCH', `/webhook-endpoints/${id}`, {
        token: admin.token,
        body: { events: ['claim.granted', 'claim.revoked'], enabled: false },
      });
      expect(patched.body).toMatchObject({ events: ['claim.granted', 'claim.revoked'], enabled: false });
      const rotated = await t.request<Record<string, unknown>>('POST', `/webhook-endpoints/${id}/rotate-secret`, {
        token: admin.token,
      });
      expect(rotated.status).toBe(200);
      expect(rotated.body.secret).not.toBe(created.body.secret);
      expect(Date.parse(rotated.body.previousSecretExpiresAt as string) - Date.now()).toBeGreaterThan(23 * 3600_000);
      expect((await t.request('DELETE', `/webhook-endpoints/${id}`, { token: admin.token })).status).toBe(204);
      expect((await t.request('GET', `/webhook-endpoints/${id}`, { token: admin.token })).status).toBe(404);
      const audit = await t.request<{ items: Array<{ action: string; targetId: string; changes: unknown }> }>(
        'GET',
        `/audit-logs?actorId=${admin.id}&limit=100`,
        { token: admin.token },
      );
      const mine = audit.body.items.filter((entry) => entry.targetId === id);
      expect(mine.map((entry) => entry.action).sort()).toEqual([
        'WEBHOOK_ENDPOINT_CREATED',
        'WEBHOOK_ENDPOINT_DELETED',
        'WEBHOOK_ENDPOINT_UPDATED',
        'WEBHOOK_SECRET_ROTATED',
      ]);
      expect(JSON.stringify(mine)).not.toContain('whsec_');
    });

    it("audits a receiver's URL as its origin and a fingerprint: a token in its path or query is not shown to AUDITORs", async () => {
      const url = `${receiver.url}/hooks/T0-s3cretpath?token=s3cretquery`;
      const created = await t.request<{ id: string }>('POST', '/webhook-endpoints', {
        token: admin.token,
        body: { url, events: ['claim.granted'] },
      });
      expect(created.status).toBe(201);
      const moved = `${receiver.url}/hooks/T0-s3cretpath?token=s3cretother`;
      expect(
        (await t.request('PATCH', `/webhook-endpoints/${created.body.id}`, { token: admin.token, body: { url: moved } })).status,
      ).toBe(200);
      const audit = await t.request<{ items: Array<{ action: string; targetId: string; changes: Record<string, unknown> }> }>(
        'GET',
        `/audit-logs?targetId=${created.body.id}&limit=100`,
        { token: t.as('AUDITOR').token },
      );
      expect(audit.status).toBe(200);
      const text = JSON.stringify(audit.body.items);
      expect(text).not.toContain('s3cret');
      const fingerprint = (of: string) =>
        `${new URL(receiver.url).origin}/... (sha256 ${createHash('sha256').update(of).digest('hex').slice(0, 12)})`;
      expect(audit.body.items.find((entry) => entry.action === 'WEBHOOK_ENDPOINT_CREATED')?.changes.url).toEqual({
        before: null,
        after: fingerprint(url),
      });
      // A change of the query alone is still a change.
      expect(audit.body.items.find((entry) => entry.action === 'WEBHOOK_ENDPOINT_UPDATED')?.changes.url).toEqual({
        before: fingerprint(url),
        after: fingerprint(moved),
      });
    });

    it("shows a receiver's URL recorded whole, before the audit log took its fingerprint, as origin and fingerprint too", async () => {
      // As the version before wrote an endpoint's creation: the URL whole, token and all.
      const url = `${receiver.url}/hooks/T0-s3cretpath?token=s3cretquery`;
      const targetId = newId();
      await t.app.get(AuditLogRepository).insert({
        actorId: admin.id,
        action: 'WEBHOOK_ENDPOINT_CREATED',
        targetType: 'WebhookEndpoint',
        targetId,
        changes: { url: { before: null, after: url }, enabled: { before: null, after: true } },
      });
      const audit = await t.request<{ items: Array<{ changes: Record<string, unknown> }> }>(
        'GET',
        `/audit-logs?targetId=${targetId}`,
        { token: t.as('AUDITOR').token },
      );
      expect(audit.status).toBe(200);
      expect(JSON.stringify(audit.body.items)).not.toContain('s3cret');
      expect(audit.body.items[0]?.changes).toEqual({
        url: {
          before: null,
          after: `${new URL(receiver.url).origin}/... (sha256 ${createHash('sha256').update(url).digest('hex').slice(0, 12)})`,
        },
        enabled: { before: null, after: true },
      });
    });

    it('a PATCH that changes nothing (no field, or the values it has) is no change: not written, not audited', async () => {
      const endpoint = await subscribe(['claim.granted']);
      const before = await t.request<{ updatedAt: string }>('GET', `/webhook-endpoints/${endpoint.id}`, { token: admin.token });
      for (const body of [{}, { enabled: true }, { url: receiver.url, events: ['claim.granted'] }]) {
        const same = await t.request('PATCH', `/webhook-endpoints/${endpoint.id}`, { token: admin.token, body });
        expect(same.status, JSON.stringify(body)).toBe(200);
        expect(same.body, JSON.stringify(body)).toEqual(before.body);
      }
      const audit = await t.request<{ items: Array<{ action: string; targetId: string }> }>(
        'GET',
        `/audit-logs?actorId=${admin.id}&limit=100`,
        { token: admin.token },
      );
      expect(audit.body.items.filter((entry) => entry.targetId === endpoint.id).map((entry) => entry.action)).toEqual([
        'WEBHOOK_ENDPOINT_CREATED',
      ]);
    });

    it('keeps every secret it hands out when rotations and changes race: each admin gets one that signs', async () => {
      const created = await t.request<{ id: string; secret: string }>('POST', '/webhook-endpoints', {
        token: admin.token,
        body: { url: receiver.url, events: ['claim.granted'] },
      });
      const id = created.body.id;
      // Several rounds: without one writer at a time, a round loses a secret about every other time.
      for (let round = 0; round < 3; round++) {
        const [first, second, patched] = await Promise.all([
          t.request<{ secret: string }>('POST', `/webhook-endpoints/${id}/rotate-secret`, { token: admin.token }),
          t.request<{ secret: string }>('POST', `/webhook-endpoints/${id}/rotate-secret`, { token: admin.token }),
          t.request('PATCH', `/webhook-endpoints/${id}`, { token: admin.token, body: { description: `raced ${round}` } }),
        ]);
        expect([first.status, second.status, patched.status]).toEqual([200, 200, 200]);
        // One rotation after the other: the later one's secret is current, the earlier one's still verifies
        // for the overlap (beside those of earlier rounds, up to the cap), and the description set in between is kept.
        const stored = (await t.app.get(WebhookEndpointRepository).findById(id))!;
        const values = stored.secrets.map((secret) => secret.value);
        expect(values.length).toBeLessThanOrEqual(1 + MAX_PREVIOUS_SECRETS);
        expect(values.slice(0, 2)).toEqual(expect.arrayContaining([first.body.secret, second.body.secret]));
        expect(stored.description).toBe(`raced ${round}`);
      }
      expect((await t.request('DELETE', `/webhook-endpoints/${id}`, { token: admin.token })).status).toBe(204);
    });

    it('rotates, changes and removes nothing when the start-by time passes while another change holds the endpoint', async () => {
      const created = await t.request<{ id: string; secret: string }>('POST', '/webhook-endpoints', {
        token: admin.token,
        body: { url: receiver.url, events: ['claim.granted'], description: 'kept' },
      });
      const id = created.body.id;
      const sends: Array<[string, string, unknown]> = [
        ['POST', `/webhook-endpoints/${id}/rotate-secret`, undefined],
        ['PATCH', `/webhook-endpoints/${id}`, { description: 'never applied' }],
        ['DELETE', `/webhook-endpoints/${id}`, undefined],
      ];
      for (const [method, url, body] of sends) {
        const held = await holdEditLock(t, `webhook-endpoint:${id}`);
        const reply = await pastStartByWhileWaiting(held, (headers) =>
          t.app.inject({
            method: method as 'POST' | 'PATCH' | 'DELETE',
            url,
            headers: {
              authorization: `Bearer ${admin.token}`,
              ...(body !== undefined && { 'content-type': 'application/json' }),
              ...headers,
            },
            ...(body !== undefined && { payload: JSON.stringify(body) }),
          }),
        );
        expectRefusedLate(reply);
      }
      const stored = (await t.app.get(WebhookEndpointRepository).findById(id))!;
      expect(stored.description).toBe('kept');
      expect(stored.secrets.map((secret) => secret.value)).toEqual([created.body.secret]);
    });

    it('refuses a DELETE with a body field (400, the endpoint kept, nothing audited) and takes one with {}', async () => {
      const created = await t.request<{ id: string }>('POST', '/webhook-endpoints', {
        token: admin.token,
        body: { url: receiver.url, events: ['claim.granted'] },
      });
      const id = created.body.id;
      // A client that meant "disable" (PATCH {enabled: false}) and sent it with the wrong method.
      const refused = await t.request('DELETE', `/webhook-endpoints/${id}`, { token: admin.token, body: { enabled: false } });
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED', message: ['property enabled should not exist'] });
      expect((await t.request('GET', `/webhook-endpoints/${id}`, { token: admin.token })).status).toBe(200);
      const audit = await t.request<{ items: Array<{ action: string }> }>('GET', `/audit-logs?targetId=${id}`, {
        token: admin.token,
      });
      expect(audit.body.items.map((entry) => entry.action)).toEqual(['WEBHOOK_ENDPOINT_CREATED']);
      expect((await t.request('DELETE', `/webhook-endpoints/${id}`, { token: admin.token, body: {} })).status).toBe(204);
    });

    it('refuses bad input with a code and writes nothing; only ADMIN manages endpoints', async () => {
      const before = await t.request<{ total: number }>('GET', '/webhook-endpoints', { token: admin.token });
      const cases: Array<[unknown, string]> = [
        [{ url: 'not a url', events: ['claim.granted'] }, 'INVALID_WEBHOOK_URL'],
        [{ url: 'ftp://example.com/x', events: ['claim.granted'] }, 'INVALID_WEBHOOK_URL'],
        [{ url: 'http://user:pw@127.0.0.1/x', events: ['claim.granted'] }, 'INVALID_WEBHOOK_URL'],
        [{ url: receiver.url, events: ['claim.exploded'] }, 'VALIDATION_FAILED'],
        [{ url: receiver.url, events: [] }, 'VALIDATION_FAILED'],
        [{ url: receiver.url, events: ['claim.granted'], secret: 'mine' }, 'VALIDATION_FAILED'],
        // Metadata addresses are refused even where private networks are allowed.
        [{ url: 'http://169.254.169.254/latest/meta-data', events: ['claim.granted'] }, 'WEBHOOK_URL_REFUSED'],
        [{ url: 'http://[fd00:ec2::254]/', events: ['claim.granted'] }, 'WEBHOOK_URL_REFUSED'],
        [{ url: 'http://[::ffff:169.254.169.254]/', events: ['claim.granted'] }, 'WEBHOOK_URL_REFUSED'],
      ];
      for (const [body, code] of cases) {
        const answer = await t.request('POST', '/webhook-endpoints', { token: admin.token, body });
        expect(answer.status, JSON.stringify(body)).toBe(400);
        expect(answer.body.code, JSON.stringify(body)).toBe(code);
      }
      const forbidden = await t.request('POST', '/webhook-endpoints', {
        token: operator.token,
        body: { url: receiver.url, events: ['claim.granted'] },
      });
      expect(forbidden.status).toBe(403);
      expect((await t.request('GET', '/webhook-endpoints', { token: operator.token })).status).toBe(403);
      expect((await t.request('GET', '/deliveries', { token: t.as('USER').token })).status).toBe(403);
      expect(
        (await t.request('PATCH', '/webhook-endpoints/665f1c2b9d3e4a00123456aa', { token: admin.token, body: {} })).status,
      ).toBe(404);
      const after = await t.request<{ total: number }>('GET', '/webhook-endpoints', { token: admin.token });
      expect(after.body.total).toBe(before.body.total);
    });
  });

  describe('delivery', () => {
    it('delivers a grant signed per Standard Webhooks (checked by the SDK and by an independent library)', async () => {
      const endpoint = await subscribe();
      const granted = await grantedClaim();
      expect(granted.body.payout).toEqual({ status: 'PENDING', attempts: 0 });
      const [delivery] = await settled(granted.id);
      expect(delivery).toMatchObject({ status: 'DELIVERED', attempts: 1, type: 'claim.granted' });
      const [webhook] = receiver.withId(delivery!.webhookId);
      const payload = verifyWebhook(endpoint.secret, webhook!.headers as Record<string, string>, webhook!.body);
      expect(payload).toMatchObject({
        id: delivery!.webhookId,
        type: 'claim.granted',
        data: { id: granted.id, status: 'GRANTED' },
      });
      expect(payload.data.rewards).toEqual(granted.body.rewards);
      expect(new Webhook(endpoint.secret).verify(webhook!.body, webhook!.headers as Record<string, string>)).toEqual(payload);
      expect(() =>
        verifyWebhook(endpoint.secret, webhook!.headers as Record<string, string>, webhook!.body.replace('GRANTED', 'REVOKED')),
      ).toThrow(WebhookVerificationError);
      expect(() =>
        verifyWebhook(endpoint.secret, webhook!.headers as Record<string, string>, webhook!.body, { now: Date.now() + 3600_000 }),
      ).toThrow(/tolerance/);

      await vi.waitFor(async () => {
        const claimNow = await t.request<Record<string, unknown>>('GET', `/claims/${granted.id}`, { token: operator.token });
        expect(claimNow.body.payout).toMatchObject({ status: 'DELIVERED', attempts: 1 });
      });
      const filtered = await t.request<{ items: Array<{ id: string }> }>('GET', '/claims?payoutStatus=DELIVERED&limit=100', {
        token: operator.token,
      });
      expect(filtered.body.items.map((item) => item.id)).toContain(granted.id);
      const pending = await t.request<{ items: Array<{ id: string }> }>('GET', '/claims?payoutStatus=PENDING&limit=100', {
        token: operator.token,
      });
      expect(pending.body.items.map((item) => item.id)).not.toContain(granted.id);
      const csv = await t.app.inject({
        method: 'GET',
        url: `/claims/export`,
        headers: { authorization: `Bearer ${operator.token}` },
      });
      expect(csv.body.split('\r\n')[0]).toMatch(/,payoutStatus$/);
      expect(csv.body).toContain(`${granted.id},`);
      expect(csv.body.split('\r\n').find((line) => line.startsWith(granted.id))).toMatch(/,DELIVERED$/);
    });

    it('waits while claims run in this process, then delivers once they are quiet', async () => {
      await subscribe(['claim.granted']);
      const load = t.app.get(ClaimLoad);
      let claimsRunning = true;
      let samples = 0;
      load.useProbe(() => {
        samples += 1;
        return { inFlight: claimsRunning ? 1 : 0, queued: 0 };
      });
      try {
        const granted = await grantedClaim();
        const webhooksOf = (): number => receiver.received.filter((webhook) => webhook.body.includes(granted.id)).length;
        // The relay is waiting for a quiet moment (it keeps looking), and has sent nothing meanwhile.
        const waitingSince = samples;
        await vi.waitFor(() => expect(samples).toBeGreaterThan(waitingSince + 20));
        expect(webhooksOf()).toBe(0);
        claimsRunning = false;
        await vi.waitFor(() => expect(webhooksOf()).toBe(1), { timeout: 5_000 });
      } finally {
        load.useProbe();
      }
    });

    it('under claims that never pause, still delivers (its wait is bounded)', async () => {
      await subscribe(['claim.granted']);
      const load = t.app.get(ClaimLoad);
      let samples = 0;
      load.useProbe(() => {
        samples += 1;
        return { inFlight: 1, queued: 0 };
      });
      try {
        const granted = await grantedClaim();
        const [delivery] = await settled(granted.id);
        expect(delivery).toMatchObject({ status: 'DELIVERED', attempts: 1 });
        expect(samples).toBeGreaterThan(0);
      } finally {
        load.useProbe();
      }
    });

    it('records the attempts of a round together, each delivery keeping its own log; a repeated attempt keeps its first answer', async () => {
      await subscribe(['claim.granted']);
      await subscribe(['claim.granted'], `${receiver.url}/second`);
      const load = t.app.get(ClaimLoad);
      let claimsRunning = true;
      load.useProbe(() => ({ inFlight: claimsRunning ? 1 : 0, queued: 0 }));
      let granted: Array<{ id: string }>;
      try {
        // Held back while the grants are made, the relay finds all six deliveries in one round.
        granted = [await grantedClaim(), await grantedClaim(), await grantedClaim()];
      } finally {
        claimsRunning = false;
        load.useProbe();
      }
      for (const { id } of granted) {
        const deliveries = await settled(id, 2);
        for (const delivery of deliveries) {
          expect(delivery).toMatchObject({ status: 'DELIVERED', attempts: 1, lastStatusCode: 204 });
          expect(delivery.attemptLog).toEqual([expect.objectContaining({ attempt: 1, statusCode: 204 })]);
          expect(delivery.lastLatencyMs).toBe(delivery.attemptLog[0]!.latencyMs);
        }
        await vi.waitFor(async () => {
          const claimNow = await t.request<Record<string, unknown>>('GET', `/claims/${id}`, { token: operator.token });
          expect(claimNow.body.payout).toMatchObject({ status: 'DELIVERED', attempts: 2 });
        });
      }
      const [first] = await deliveriesOf(granted[0]!.id);
      await t.app.get(DeliveryRepository).recordAttempt(first!.id, {
        attempt: { attempt: 1, at: new Date(), statusCode: 500, latencyMs: 1, error: 'a repeat' },
        status: 'PENDING',
        nextAttemptAt: new Date(),
      });
      const [again] = (await deliveriesOf(granted[0]!.id)).filter((delivery) => delivery.id === first!.id);
      expect(again).toMatchObject({ status: 'DELIVERED', attempts: 1, lastStatusCode: 204 });
      expect(again!.attemptLog).toEqual(first!.attemptLog);
    });

    it('writes alike summaries together, and one by one the claims whose summary was not pending', async () => {
      const [a, b] = [await grantedClaim(), await grantedClaim()];
      expect(a.body.payout).toEqual({ status: 'NOT_REQUIRED', attempts: 0 });
      const payout = { status: 'FAILED' as const, attempts: 3, lastError: 'set by the test' };
      await t.app.get(PayoutOutboxRepository).setClaimPayouts(
        new Map([
          [a.id, payout],
          [b.id, payout],
        ]),
      );
      for (const { id } of [a, b]) {
        const claimNow = await t.request<Record<string, unknown>>('GET', `/claims/${id}`, { token: operator.token });
        expect(claimNow.body.payout).toEqual(payout);
      }
    });

    it('without a subscribed endpoint a grant needs no payout', async () => {
      const granted = await grantedClaim();
      expect(granted.body.payout).toEqual({ status: 'NOT_REQUIRED', attempts: 0 });
      const filtered = await t.request<{ items: Array<{ id: string }> }>('GET', '/claims?payoutStatus=NOT_REQUIRED&limit=100', {
        token: operator.token,
      });
      expect(filtered.body.items.map((item) => item.id)).toContain(granted.id);
    });

    it('retries a failing receiver with the same webhook-id until it answers 2xx', async () => {
      await subscribe(['claim.granted']);
      receiver.answer = (index, webhook, res) => {
        const mine = receiver.withId(webhook.headers['webhook-id'] as string).length;
        res.writeHead(mine <= 2 ? 503 : 200).end(mine <= 2 ? 'busy' : 'ok');
        void index;
      };
      const granted = await grantedClaim();
      const [delivery] = await settled(granted.id);
      expect(delivery).toMatchObject({ status: 'DELIVERED', attempts: 3 });
      expect(delivery!.attemptLog.map((entry) => entry.statusCode)).toEqual([503, 503, 200]);
      expect(delivery!.attemptLog[0]!.error).toBe('the receiver answered 503: busy');
      const sent = receiver.withId(delivery!.webhookId);
      expect(sent).toHaveLength(3);
      expect(new Set(sent.map((webhook) => webhook.body)).size).toBe(1);
    });

    it('gives up after the schedule, times out a silent receiver, and sends a FAILED one again on retry', async () => {
      await subscribe(['claim.granted']);
      receiver.answer = () => {}; // never answers
      const granted = await grantedClaim();
      const [failed] = await settled(granted.id);
      expect(failed).toMatchObject({ status: 'FAILED', attempts: 4, lastError: 'no answer within 500 ms' });
      await vi.waitFor(async () => {
        const claimNow = await t.request<Record<string, unknown>>('GET', `/claims/${granted.id}`, { token: operator.token });
        expect(claimNow.body.payout).toMatchObject({ status: 'FAILED', attempts: 4, lastError: 'no answer within 500 ms' });
      });
      // The player sees how the payout stands, not what the game's receiver did (staff's to read).
      const own = await t.request<{ payout: Record<string, unknown> }>('GET', `/claims/${granted.id}`, {
        token: granted.player.token,
      });
      expect(own.body.payout).toMatchObject({ status: 'FAILED', attempts: 4 });
      expect(own.body.payout).not.toHaveProperty('lastError');
      const mine = await t.request<{ items: Array<{ id: string; payout: Record<string, unknown> }> }>('GET', '/claims/me', {
        token: granted.player.token,
      });
      expect(mine.body.items.find((item) => item.id === granted.id)?.payout).toEqual(own.body.payout);

      receiver.answer = (_i, _w, res) => res.writeHead(200).end();
      expect((await t.request('POST', `/deliveries/${failed!.id}/retry`, { token: t.as('AUDITOR').token })).status).toBe(403);
      const retried = await t.request('POST', `/deliveries/${failed!.id}/retry`, { token: operator.token });
      expect(retried.status).toBe(200);
      const [delivered] = await settled(granted.id);
      expect(delivered).toMatchObject({ status: 'DELIVERED', attempts: 5 });
      const again = await t.request('POST', `/deliveries/${failed!.id}/retry`, { token: operator.token });
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('DELIVERY_NOT_FAILED');
      expect((await t.request('POST', '/deliveries/665f1c2b9d3e4a00123456aa/retry', { token: operator.token })).status).toBe(404);
    });

    it('of concurrent retries of one failure exactly one succeeds and is audited once', async () => {
      const { granted, failed } = await failedGrant();
      expect(failed).toMatchObject({ status: 'FAILED', attempts: 4 });
      receiver.answer = (_i, _w, res) => res.writeHead(204).end();
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => t.request('POST', `/deliveries/${failed.id}/retry`, { token: operator.token })),
      );
      expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
      for (const answer of answers.filter((one) => one.status !== 200)) {
        expect(answer.status).toBe(409);
        expect(answer.body.code).toBe('DELIVERY_NOT_FAILED');
      }
      const [delivered] = await settled(granted.id);
      expect(delivered).toMatchObject({ status: 'DELIVERED', attempts: 5 });
      expect(receiver.withId(delivered!.webhookId)).toHaveLength(5);
      const audit = await t.request<{ items: Array<{ action: string; targetId: string }> }>(
        'GET',
        `/audit-logs?actorId=${operator.id}&limit=100`,
        { token: admin.token },
      );
      const retried = audit.body.items.filter((entry) => entry.targetId === failed.id && entry.action === 'DELIVERY_RETRIED');
      expect(retried).toHaveLength(1);
    });

    it('a delivery whose endpoint was deleted is not retried: 409 DELIVERY_ENDPOINT_DELETED', async () => {
      const { endpoint, granted, failed } = await failedGrant();
      expect(failed).toMatchObject({ status: 'FAILED' });
      expect((await t.request('DELETE', `/webhook-endpoints/${endpoint.id}`, { token: admin.token })).status).toBe(204);
      const retried = await t.request('POST', `/deliveries/${failed.id}/retry`, { token: operator.token });
      expect(retried.status).toBe(409);
      expect(retried.body.code).toBe('DELIVERY_ENDPOINT_DELETED');
      expect(retried.body.message).toMatch(/endpoint .* was deleted/);
      const [after] = await deliveriesOf(granted.id);
      expect(after).toMatchObject({ status: 'FAILED', attempts: failed.attempts });
    });

    it('a delivery whose endpoint is disabled is not retried until it is enabled: 409 DELIVERY_ENDPOINT_DISABLED', async () => {
      const { endpoint, granted, failed } = await failedGrant();
      expect(failed).toMatchObject({ status: 'FAILED' });
      const disable = (enabled: boolean) =>
        t.request('PATCH', `/webhook-endpoints/${endpoint.id}`, { token: admin.token, body: { enabled } });
      expect((await disable(false)).status).toBe(200);
      const refused = await t.request('POST', `/deliveries/${failed.id}/retry`, { token: operator.token });
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ code: 'DELIVERY_ENDPOINT_DISABLED', message: expect.stringMatching(/is disabled/) });
      const [still] = await deliveriesOf(granted.id);
      expect(still).toMatchObject({ status: 'FAILED', attempts: failed.attempts });
      receiver.answer = (_i, _w, res) => res.writeHead(204).end();
      expect((await disable(true)).status).toBe(200);
      expect((await t.request('POST', `/deliveries/${failed.id}/retry`, { token: operator.token })).status).toBe(200);
      const [delivered] = await settled(granted.id);
      expect(delivered).toMatchObject({ status: 'DELIVERED' });
    });

    it('a 410 Gone disables the endpoint and fails the delivery', async () => {
      const endpoint = await subscribe(['claim.granted']);
      receiver.answer = (_i, _w, res) => res.writeHead(410).end();
      const granted = await grantedClaim();
      const [delivery] = await settled(granted.id);
      expect(delivery).toMatchObject({ status: 'FAILED', attempts: 1, lastError: 'the receiver answered 410 Gone' });
      const now = await t.request('GET', `/webhook-endpoints/${endpoint.id}`, { token: admin.token });
      expect(now.body).toMatchObject({ enabled: false, disabledReason: 'the receiver answered 410 Gone' });
      // A change of an endpoint like any other: the auditor sees who turned it off, and why.
      const audit = await t.request<{ items: Array<{ actorId: string; action: string; targetId: string; changes: unknown }> }>(
        'GET',
        '/audit-logs?action=WEBHOOK_ENDPOINT_UPDATED&limit=100',
        { token: admin.token },
      );
      expect(audit.body.items.filter((entry) => entry.targetId === endpoint.id)).toEqual([
        expect.objectContaining({
          actorId: 'system',
          changes: {
            enabled: { before: true, after: false },
            disabledReason: { before: null, after: 'the receiver answered 410 Gone' },
          },
        }),
      ]);
    });

    it('sends approvals (pending, then granted) and revocations; a rotation signs with both secrets', async () => {
      const endpoint = await subscribe();
      const pending = await grantedClaim({ approval: 'MANUAL' });
      expect(pending.body.status).toBe('PENDING');
      await settled(pending.id, 1);
      const approved = await t.request('POST', `/claims/${pending.id}/approve`, { token: operator.token });
      expect(approved.status).toBe(200);
      await settled(pending.id, 2);

      const rotated = await t.request<{ secret: string }>('POST', `/webhook-endpoints/${endpoint.id}/rotate-secret`, {
        token: admin.token,
      });
      const revoked = await t.request('POST', `/claims/${pending.id}/revoke`, { token: operator.token, body: { note: 'fraud' } });
      expect(revoked.status).toBe(200);
      expect(revoked.body.payout).toMatchObject({ status: 'PENDING' });
      const deliveries = await settled(pending.id, 3);
      expect(deliveries.map((delivery) => delivery.type).sort()).toEqual(['claim.granted', 'claim.pending', 'claim.revoked']);
      const revocation = deliveries.find((delivery) => delivery.type === 'claim.revoked')!;
      const [webhook] = receiver.withId(revocation.webhookId);
      expect((webhook!.headers['webhook-signature'] as string).split(' ')).toHaveLength(2);
      const headers = webhook!.headers as Record<string, string>;
      expect(verifyWebhook(endpoint.secret, headers, webhook!.body).data).toMatchObject({ status: 'REVOKED', note: 'fraud' });
      expect(verifyWebhook(rotated.body.secret, headers, webhook!.body).type).toBe('claim.revoked');
      expect(new Webhook(rotated.body.secret).verify(webhook!.body, headers)).toMatchObject({ type: 'claim.revoked' });
    });

    it("carries each reward's item or coupon code, as the reward had it, in the claim and in its webhook", async () => {
      const endpoint = await subscribe(['claim.granted']);
      const event = await createClaimableEvent(t, operator, {
        rewards: [
          { type: 'ITEM', name: 'Dragon sword', quantity: 1, itemCode: 'SWORD_DRAGON_01' },
          { type: 'COUPON', name: '10% off', quantity: 1, couponCode: 'WINTER-10' },
          { type: 'POINT', name: 'Points', quantity: 100 },
        ],
      });
      const [user] = await eligibleUsers(t, operator, 1);
      const granted = await claim(t, event.id, user!);
      expect(granted.status).toBe(201);
      const rewards = [
        { rewardId: event.rewardIds[0], type: 'ITEM', name: 'Dragon sword', quantity: 1, itemCode: 'SWORD_DRAGON_01' },
        { rewardId: event.rewardIds[1], type: 'COUPON', name: '10% off', quantity: 1, couponCode: 'WINTER-10' },
        { rewardId: event.rewardIds[2], type: 'POINT', name: 'Points', quantity: 100 },
      ];
      // The player's own answer shows the coupon without its code (staff and the game see it).
      const { couponCode: _staffOnly, ...couponAsShown } = rewards[1]!;
      expect(granted.body.rewards).toEqual([rewards[0], couponAsShown, rewards[2]]);
      const asStaff = await t.request<{ rewards: unknown[] }>('GET', `/claims/${granted.body.id as string}`, {
        token: operator.token,
      });
      expect(asStaff.body.rewards).toEqual(rewards);
      // Nor does a player who is refused learn it.
      const refused = await claim(t, event.id, t.as('USER'));
      expect(refused.status).toBe(422);
      expect(JSON.stringify(refused.body)).not.toContain('WINTER-10');
      const [delivery] = await settled(granted.body.id as string);
      const [webhook] = receiver.withId(delivery!.webhookId);
      const payload = verifyWebhook(endpoint.secret, webhook!.headers as Record<string, string>, webhook!.body);
      expect(payload.data.rewards).toEqual(rewards);
    });

    it("sends a reviewer's rejection of a pending claim (claim.rejected), and nothing for a claim refused when made", async () => {
      const endpoint = await subscribe(['claim.pending', 'claim.rejected']);
      const pending = await grantedClaim({ approval: 'MANUAL' });
      await settled(pending.id, 1);
      const rejected = await t.request('POST', `/claims/${pending.id}/reject`, {
        token: operator.token,
        body: { note: 'duplicate account' },
      });
      expect(rejected.status).toBe(200);
      const deliveries = await settled(pending.id, 2);
      expect(deliveries.map((delivery) => delivery.type).sort()).toEqual(['claim.pending', 'claim.rejected']);
      const rejection = deliveries.find((delivery) => delivery.type === 'claim.rejected')!;
      expect(rejection.status).toBe('DELIVERED');
      const [webhook] = receiver.withId(rejection.webhookId);
      const payload = verifyWebhook(endpoint.secret, webhook!.headers as Record<string, string>, webhook!.body);
      expect(payload).toMatchObject({
        type: 'claim.rejected',
        data: { id: pending.id, status: 'REJECTED', reason: 'REVIEW_REJECTED', note: 'duplicate account' },
      });
      expect(typeof payload.data.decidedAt).toBe('string');
      // The pending one reads as the claim did then: not decided yet, so no decidedAt.
      const pendingDelivery = deliveries.find((delivery) => delivery.type === 'claim.pending')!;
      const [pendingWebhook] = receiver.withId(pendingDelivery.webhookId);
      const pendingPayload = verifyWebhook(
        endpoint.secret,
        pendingWebhook!.headers as Record<string, string>,
        pendingWebhook!.body,
      );
      expect(pendingPayload.data).toMatchObject({ id: pending.id, status: 'PENDING' });
      expect(pendingPayload.data).not.toHaveProperty('decidedAt');
      // A player who is not eligible is refused at once (422, recorded REJECTED): the game never heard of that claim.
      const event = await createClaimableEvent(t, operator, { approval: 'MANUAL' });
      const refused = await claim(t, event.id, t.as('USER'));
      expect(refused.status).toBe(422);
      expect(refused.body).toMatchObject({ status: 'REJECTED', reason: 'CONDITION_NOT_MET', payout: { status: 'NOT_REQUIRED' } });
    });
  });
});

describe('SSRF', () => {
  let t: EventTestApp;
  let admin: Actor;
  let receiver: TestReceiver;

  beforeAll(async () => {
    t = await startEventTestApp('payout-ssrf', { PAYOUT_RELAY_INTERVAL_MS: '0', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' });
    admin = t.as('ADMIN');
    receiver = await TestReceiver.start();
  });

  afterAll(async () => {
    await t?.close();
    await receiver?.stop();
  });

  it('refuses loopback, private, link-local and mapped addresses and names resolving to them', async () => {
    for (const url of [
      receiver.url,
      'http://localhost:8080/x',
      'http://10.1.2.3/x',
      'http://172.16.0.1/x',
      'http://192.168.1.1/x',
      'http://169.254.1.1/x',
      'http://[::1]/x',
      'http://[fe80::1]/x',
      'http://[fd12::1]/x',
      'http://[::ffff:127.0.0.1]/x',
      'http://0.0.0.0/x',
      'http://2130706433/x', // 127.0.0.1 spelled as a number
    ]) {
      const answer = await t.request('POST', '/webhook-endpoints', {
        token: admin.token,
        body: { url, events: ['claim.granted'] },
      });
      expect(answer.status, url).toBe(400);
      expect(answer.body.code, url).toBe('WEBHOOK_URL_REFUSED');
    }
    expect(receiver.received).toHaveLength(0);
  });

  it('checks the address again when sending: nothing reaches a name that now resolves to loopback', async () => {
    const byName = await sendWebhook(receiver.url.replace('127.0.0.1', 'localhost'), {}, '{}', {
      timeoutMs: 500,
      allowPrivate: false,
    });
    expect(byName.error).toMatch(/refused: .*loopback/);
    const byAddress = await sendWebhook(receiver.url, {}, '{}', { timeoutMs: 500, allowPrivate: false });
    expect(byAddress.error).toMatch(/refused: .*loopback/);
    expect(receiver.received).toHaveLength(0);
    const allowed = await sendWebhook(receiver.url, {}, '{}', { timeoutMs: 500, allowPrivate: true });
    expect(allowed.statusCode).toBe(204);
  });

  it('does not follow redirects', async () => {
    receiver.answer = (_i, _w, res) => res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
    const result = await sendWebhook(receiver.url, {}, '{}', { timeoutMs: 500, allowPrivate: true });
    expect(result).toMatchObject({ statusCode: 302, error: 'the receiver answered 302 (redirects are not followed)' });
    expect(receiver.received).toHaveLength(2);
  });
});
