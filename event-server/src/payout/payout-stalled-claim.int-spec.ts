import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClaimFaults } from '../claims/claim-faults.js';
import { ClaimReconciler } from '../claims/claim-reconciler.service.js';
import { ClaimRepository } from '../claims/claim.repository.js';
import { claim, createClaimableEvent, eligibleUsers } from '../testing/claim-test-kit.js';
import { usePayoutSpec } from '../testing/payout-test-kit.js';

const WAIT = { timeout: 20_000, interval: 20 };

/**
 * A claim on the long path (two limited rewards) whose request stalls between its decision and its projection for
 * longer than the stale limit (a long pause, a frozen VM): the reconciler applies the decision, and the relay
 * delivers its webhook, before the request wakes up and finds the claim decided.
 */
describe('payout of a claim whose request stalled past the reconciler', () => {
  const { t, operator, subscribe } = usePayoutSpec('payout_stalled_claim', {
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    PAYOUT_RELAY_INTERVAL_MS: '20',
    WEBHOOK_RETRY_SCHEDULE_SECONDS: '600',
    // No periodic pass: the test runs the reconciler while the request is stalled.
    CLAIM_RECONCILE_INTERVAL_MS: '0',
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  async function payoutOf(claimId: string): Promise<string> {
    const found = await t.request<{ payout: { status: string } }>('GET', `/claims/${claimId}`, { token: operator.token });
    return found.body.payout.status;
  }

  it('keeps the payout the relay recorded: the request waking up does not write it back to PENDING', async () => {
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
});
