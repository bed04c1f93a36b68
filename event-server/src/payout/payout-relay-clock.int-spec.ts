import { expect, it, vi } from 'vitest';
import { startEventTestApp } from '../testing/event-test-app.js';
import { PayoutRelay } from './payout-relay.service.js';

// A relay round waits a moment for the claim path to be quiet. That wait's bound was a wall-clock instant:
// a round begun while the wall clock read an hour ahead (here Date.now moved, as a test does; in production
// a clock stepped back after it began) waited until the wall clock caught up, and closing the server (which
// lets the round finish) with it: claims-recovery's afterAll timed out on busy machines this way.
it('a relay round begun while the wall clock read an hour ahead does not hold the server open: its waits are on a monotonic clock', async () => {
  const t = await startEventTestApp('payout_relay_clock');
  const relay = t.app.get(PayoutRelay);
  const rounds = vi.spyOn(relay, 'runOnce');
  vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 3_600_000);
  relay.wake();
  await vi.waitFor(() => expect(rounds).toHaveBeenCalled(), { timeout: 30_000, interval: 5 });
  vi.restoreAllMocks();
  // Closing lets the round under way finish (its quiet wait, then its work) and resolves.
  await t.close();
}, 60_000);
