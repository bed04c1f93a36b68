import { LATE_WAIT_MESSAGE } from '@reward/server-kit/lease-mutex';
import { START_BY_HEADER } from '@reward/server-kit/start-by';
import type { LightMyRequestResponse } from 'fastify';
import { expect, vi } from 'vitest';
import { EditLockRepository } from '../edit-lock/edit-lock.repository.js';
import type { EventTestApp } from './event-test-app.js';

/** An EditLock key the test holds, as another change in progress would. */
export interface HeldEditLock {
  /** How many times a request was refused the key while the test held it: above 0, one is waiting for it. */
  refused: () => number;
  /** Lets go of the key (the waiting request may then take it). */
  release: () => Promise<void>;
}

const TEST_HOLDER = 'another change (the test)';

/**
 * Takes `key` (`reward:<id>`, `event:<id>`) in the EditLock's store for a minute, as a change in progress
 * would, and counts the refused attempts of others to take it: a test sees a request waiting for it (a state),
 * and decides when it is let go. Undone by `release()`.
 */
export async function holdEditLock(t: EventTestApp, key: string): Promise<HeldEditLock> {
  const leases = t.app.get(EditLockRepository);
  const tryInsert = leases.tryInsert.bind(leases);
  if (!(await tryInsert(key, { holder: TEST_HOLDER, expiresAt: new Date(Date.now() + 60_000) }))) {
    throw new Error(`${key} is held already`);
  }
  let refused = 0;
  const spy = vi.spyOn(leases, 'tryInsert').mockImplementation(async (tried, lease) => {
    const won = await tryInsert(tried, lease);
    if (!won && tried === key) refused++;
    return won;
  });
  return {
    refused: () => refused,
    release: async () => {
      spy.mockRestore();
      await leases.deleteHeld(key, TEST_HOLDER);
    },
  };
}

/**
 * Sends, through `send`, a request with a start-by time 1.5 s away (as the gateway stamps it), sees it waiting
 * for `held`, and lets `held` go once that time has passed: a change that went on then would be made after the
 * client may have been told 504 (three operators topping up one reward in a claim burst saw their PATCH answered
 * 504 and applied 1.7 s later). The request's answer. A machine too busy to bring the request to the lock within
 * that time (it is then turned away on arrival, nothing done) gets the same request again with 5 s, then 20 s:
 * what is tested is the state (waiting for the lock when its time comes), not how fast the machine is.
 */
export async function pastStartByWhileWaiting(
  held: HeldEditLock,
  send: (headers: Record<string, string>) => Promise<LightMyRequestResponse>,
): Promise<LightMyRequestResponse> {
  for (const aheadMs of [1_500, 5_000, 20_000]) {
    const refusedBefore = held.refused();
    const startBy = Date.now() + aheadMs;
    let answered = false;
    const answer = send({ [START_BY_HEADER]: String(startBy) }).finally(() => (answered = true));
    await vi.waitFor(() => expect(held.refused() > refusedBefore || answered).toBe(true), { timeout: 60_000, interval: 5 });
    // Turned away on arrival (not seen waiting for the lock): sent again with more time.
    if (held.refused() === refusedBefore) {
      await answer;
      continue;
    }
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(startBy), { timeout: aheadMs + 10_000, interval: 5 });
    await held.release();
    return answer;
  }
  throw new Error('the request never reached the lock before its start-by time, even 20 s ahead');
}

/** The answer to a write whose start-by time came while it waited for a lock: 503, Retry-After, nothing done. */
export function expectRefusedLate(reply: LightMyRequestResponse): void {
  expect(reply.statusCode).toBe(503);
  expect(reply.headers['retry-after']).toBe('1');
  expect(reply.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 1, message: LATE_WAIT_MESSAGE });
}
