import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClaimFaults } from '../claims/claim-faults.js';
import { ClaimReconciler } from '../claims/claim-reconciler.service.js';
import { claim, createClaimableEvent, eligibleUsers } from '../testing/claim-test-kit.js';
import { usePayoutSpec } from '../testing/payout-test-kit.js';

const WAIT = { timeout: 20_000, interval: 20 };

/**
 * A reviewer's decision applied twice from copies read at different times: the reconciler applies it while its
 * request stalls between the decision and its projection, the relay delivers its webhook, then the request wakes up
 * and projects its own copy of the decision (still marked payoutPending when it was inserted). That late projection
 * must not leave the claim's payout PENDING over the DELIVERED the relay recorded: no delivery changes after it, so
 * nothing else would ever recompute the summary.
 */
describe('payout of a claim whose reviewer decision is projected again from a stale copy', () => {
  const { t, operator, subscribe } = usePayoutSpec('payout_stale_projection', {
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
});
