import { START_BY_HEADER } from '@reward/server-kit/start-by';
import { expect, vi } from 'vitest';

/**
 * Sends, through `send`, a request with a start-by time 1.5 s away (as the gateway stamps it), sees it waiting for
 * a lock someone else holds (`refused()`, the count of its refused attempts to take it, grows), and lets that lock go
 * (`release`) once the time has passed: a change that went on then would be made after the client may have been told
 * 504 (three operators topping up one reward in a claim burst saw their PATCH answered 504 and applied 1.7 s later).
 * The request's answer. A machine too busy to bring the request to the lock within that time (it is then turned away
 * on arrival, nothing done) gets the same request again with 5 s, then 20 s: what is tested is the state (waiting
 * for the lock when its time comes), not how fast the machine is.
 */
export async function pastStartByWhileWaiting<T>(
  refused: () => number,
  send: (headers: Record<string, string>) => Promise<T>,
  release: () => Promise<unknown>,
): Promise<T> {
  for (const aheadMs of [1_500, 5_000, 20_000]) {
    const refusedBefore = refused();
    const startBy = Date.now() + aheadMs;
    let answered = false;
    const answer = send({ [START_BY_HEADER]: String(startBy) }).finally(() => (answered = true));
    await vi.waitFor(() => expect(refused() > refusedBefore || answered).toBe(true), { timeout: 60_000, interval: 5 });
    // Turned away on arrival (not seen waiting for the lock): sent again with more time.
    if (refused() === refusedBefore) {
      await answer;
      continue;
    }
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(startBy), { timeout: aheadMs + 10_000, interval: 5 });
    await release();
    return answer;
  }
  throw new Error('the request never reached the lock before its start-by time, even 20 s ahead');
}
