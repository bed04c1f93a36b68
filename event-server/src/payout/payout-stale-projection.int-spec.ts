import { getModelToken } from '@nestjs/mongoose';
import { type Model, Types } from 'mongoose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClaimEntity } from '../claims/claim.schema.js';
import { ClaimFaults } from '../claims/claim-faults.js';
import { ClaimReconciler } from '../claims/claim-reconciler.service.js';
import { ClaimRepository } from '../claims/claim.repository.js';
import { claim, createClaimableEvent, eligibleUsers } from '../testing/claim-test-kit.js';
import { usePayoutSpec } from '../testing/payout-test-kit.js';

const WAIT = { timeout: 20_000, interval: 20 };

/**
 * A decision applied twice from copies read at different times: the reconciler applies it while its request stalls
 * between the decision and its projection (longer than the stale limit: a long pause, a frozen VM), the relay
 * delivers its webhook, then the request wakes up. A claim's own request (the long path: two limited rewards) finds
 * the claim decided; a reviewer's projects its own copy of the decision (still marked payoutPending when it was
 * inserted). Neither may leave the claim's payout PENDING over the DELIVERED the relay recorded: no delivery changes
 * after it, so nothing else would ever recompute the summary.
 */
describe('payout of a claim whose decision is applied again from a stale copy', () => {
  const { t, operator, receiver, subscribe } = usePayoutSpec('payout_stale_projection', {
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    PAYOUT_RELAY_INTERVAL_MS: '20',
    WEBHOOK_RETRY_SCHEDULE_SECONDS: '600',
    // No periodic pass: the test runs the reconciler while the request is stalled.
    CLAIM_RECONCILE_INTERVAL_MS: '0',
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  async function payoutOf(claimId: string): Promise<string | undefined> {
    const found = await t.request<{ payout?: { status: string } }>('GET', `/claims/${claimId}`, { token: operator.token });
    return found.body.payout?.status;
  }

  it("keeps the payout the relay recorded: a claim's own request waking up does not write it back to PENDING", async () => {
    await subscribe();
    const event = await createClaimableEvent(t, operator, {
      approval: 'AUTO',
      rewards: [
        { type: 'POINT', name: 'A', quantity: 1, stock: 5 },
        { type: 'ITEM', name: 'B', quantity: 1, stock: 5, itemCode: 'B' },
      ],
    });
    const [user] = await eligibleUsers(t, operator, 1);
    let stalled: string | undefined;
    vi.spyOn(t.app.get(ClaimFaults), 'at').mockImplementation(async (step) => {
      if (step !== 'decision-inserted' || stalled !== undefined) return;
      const [processing] = await t.app.get(ClaimRepository).findProcessingBefore(new Date(Date.now() + 1), 1);
      stalled = processing!.id;
      // Stalled past the stale limit: the reconciler applies the decision and the relay delivers its webhook.
      await t.app.get(ClaimReconciler).reconcile({ staleAfterMs: 0 });
      await vi.waitFor(async () => expect(await payoutOf(stalled!)).toBe('DELIVERED'), WAIT);
    });
    const answer = await claim(t, event.id, user!);
    expect(answer).toMatchObject({ status: 201, body: { id: stalled, status: 'GRANTED' } });
    expect(await payoutOf(stalled!)).toBe('DELIVERED');
  });

  it("keeps the relay's DELIVERED when the approval's stalled request projects its copy afterwards", async () => {
    await subscribe();
    const event = await createClaimableEvent(t, operator, { approval: 'MANUAL' });
    const [user] = await eligibleUsers(t, operator, 1);
    const made = await claim(t, event.id, user!);
    expect(made.body.status).toBe('PENDING');
    const claimId = made.body.id as string;
    // Nobody subscribed to claim.pending: the claim has nothing to deliver until it is approved.
    expect(await payoutOf(claimId)).toBe('NOT_REQUIRED');

    let stalled = false;
    vi.spyOn(t.app.get(ClaimFaults), 'at').mockImplementation(async (step) => {
      if (step !== 'decision-inserted' || stalled) return;
      stalled = true;
      // Stalled past the grace: the reconciler applies the approval and the relay delivers its webhook.
      await t.app.get(ClaimReconciler).reconcile({ staleAfterMs: 0 });
      await vi.waitFor(async () => expect(await payoutOf(claimId)).toBe('DELIVERED'), WAIT);
    });
    const approved = await t.request('POST', `/claims/${claimId}/approve`, { token: operator.token });
    expect(approved.status).toBe(200);
    expect(stalled).toBe(true);
    // The stalled request has projected its copy; its webhook was delivered once and nothing is left to send.
    expect(await payoutOf(claimId)).toBe('DELIVERED');
    // Nor does the confirmation pass leave it otherwise.
    vi.restoreAllMocks();
    await t.app.get(ClaimReconciler).reconcile({ staleAfterMs: 0 });
    expect(await payoutOf(claimId)).toBe('DELIVERED');
  });

  it("re-derives the payout a reviewer's projection wrote back over the relay's summary (FerretDB's read-then-write)", async () => {
    const endpointId = await subscribe();
    receiver.answer = (_i, _w, res) => res.writeHead(500).end();
    const event = await createClaimableEvent(t, operator, { rewards: [{ type: 'POINT', name: 'A', quantity: 1, stock: 5 }] });
    const [user] = await eligibleUsers(t, operator, 1);
    const granted = await claim(t, event.id, user!);
    expect(granted.body.status).toBe('GRANTED');
    const claimId = granted.body.id as string;
    const claims = t.app.get<Model<ClaimEntity>>(getModelToken(ClaimEntity.name));
    // The grant's webhook failed once and waits for its retry (600 s away).
    await vi.waitFor(async () => {
      const doc = await claims.collection.findOne({ _id: new Types.ObjectId(claimId) });
      expect(doc?.payout).toMatchObject({ status: 'PENDING', attempts: 1 });
    }, WAIT);
    // The claim as the revoke's projection reads it (nobody is subscribed to claim.revoked: it writes no payout).
    const read = await claims.collection.findOne({ _id: new Types.ObjectId(claimId) });
    const revoked = await t.request('POST', `/claims/${claimId}/revoke`, { token: operator.token, body: { note: 'fraud' } });
    expect(revoked.status).toBe(200);
    // Meanwhile the relay delivers the grant and records the claim's summary.
    receiver.answer = (_i, _w, res) => res.writeHead(204).end();
    const sent = await t.request('POST', `/webhook-endpoints/${endpointId}/send-pending`, { token: operator.token });
    expect(sent.status).toBe(202);
    await vi.waitFor(async () => expect(await payoutOf(claimId)).toBe('DELIVERED'), WAIT);
    // Then the projection's write lands, the whole document it read: the revoke's fields over the old payout.
    const now = await claims.collection.findOne({ _id: new Types.ObjectId(claimId) });
    await claims.collection.replaceOne({ _id: now!._id }, { ...now!, payout: read!.payout });
    expect(await payoutOf(claimId)).toBe('PENDING');
    // The reconciler projects the revoke once more: the claim's payout is its deliveries' again.
    await t.app.get(ClaimReconciler).reconcile({ staleAfterMs: 0 });
    const after = await t.request<{ status: string; payout?: { status: string } }>('GET', `/claims/${claimId}`, {
      token: operator.token,
    });
    expect([after.body.status, after.body.payout?.status]).toEqual(['REVOKED', 'DELIVERED']);
  });
});
