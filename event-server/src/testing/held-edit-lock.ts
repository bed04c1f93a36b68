import { LATE_WAIT_MESSAGE } from '@reward/server-kit/lease-mutex';
import type { LightMyRequestResponse } from 'fastify';
import { expect, vi } from 'vitest';
import { pastStartByWhileWaiting as sendPastStartBy } from '../../../test-support/past-start-by.js';
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

/** pastStartByWhileWaiting (test-support) for a held EditLock key: the request's answer. */
export function pastStartByWhileWaiting(
  held: HeldEditLock,
  send: (headers: Record<string, string>) => Promise<LightMyRequestResponse>,
): Promise<LightMyRequestResponse> {
  return sendPastStartBy(held.refused, send, held.release);
}

/** The answer to a write whose start-by time came while it waited for a lock: 503, Retry-After, nothing done. */
export function expectRefusedLate(reply: LightMyRequestResponse): void {
  expect(reply.statusCode).toBe(503);
  expect(reply.headers['retry-after']).toBe('1');
  expect(reply.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 1, message: LATE_WAIT_MESSAGE });
}
