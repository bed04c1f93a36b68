import {
  type ClaimableEventOptions,
  ELIGIBLE_ACTIVITY,
  createClaimableEvent as createEvent,
  makeEligible,
  type RewardInput,
} from '../../../test-support/claimable-event.js';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { expect, vi } from 'vitest';
import { ClaimFaults, type ClaimStep } from '../claims/claim-faults.js';
import type { EventTestApp } from '../testing/event-test-app.js';

export type { RewardInput };

/** Test-only helpers shared by the claim integration specs (not part of the server). */
export interface Actor {
  id: string;
  token: string;
}

type EventOptions = Omit<ClaimableEventOptions, 'activity'>;

/** An event running now whose condition is one ELIGIBLE_ACTIVITY, with the given rewards (the shared fixture). */
export async function createClaimableEvent(
  t: EventTestApp,
  operator: Actor,
  options: EventOptions = {},
): Promise<{ id: string; rewardIds: string[] }> {
  const { id, rewardIds } = await createEvent(t, operator.token, options);
  return { id, rewardIds };
}

/** Fresh USER accounts that meet createClaimableEvent's condition (one activity each). */
export async function eligibleUsers(t: EventTestApp, operator: Actor, count: number): Promise<Actor[]> {
  const users = Array.from({ length: count }, () => t.as('USER'));
  await makeEligible(
    t,
    operator.token,
    ELIGIBLE_ACTIVITY,
    users.map((user) => user.id),
  );
  return users;
}

/** A claim request by `user`, with its Idempotency-Key and any `headers` more; its status, body and Retry-After. */
export async function claim(
  t: EventTestApp,
  eventId: string,
  user: Actor,
  idempotencyKey?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; retryAfter?: string }> {
  const response = await t.app.inject({
    method: 'POST',
    url: `/events/${eventId}/claims`,
    headers: {
      authorization: `Bearer ${user.token}`,
      ...(idempotencyKey !== undefined && { 'idempotency-key': idempotencyKey }),
      ...headers,
    },
  });
  const retryAfter = response.headers['retry-after'];
  return {
    status: response.statusCode,
    body: JSON.parse(response.body) as Record<string, unknown>,
    ...(typeof retryAfter === 'string' && { retryAfter }),
  };
}

export async function remainingOf(t: EventTestApp, eventId: string, user: Actor): Promise<Array<number | null>> {
  const rewards = await t.request<Array<{ remaining: number | null }>>('GET', `/events/${eventId}/rewards`, {
    token: user.token,
  });
  return rewards.body.map((reward) => reward.remaining);
}

export function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

/**
 * Stalls `t`'s next keyed claim right after it took its key (a long pause, a frozen VM: its replica still
 * holds the request), after one crash at `crashFirstAt` when given (the run before it dies there). The spy
 * is undone by the spec's vi.restoreAllMocks.
 */
export function stallAtKeyTaken(
  t: EventTestApp,
  crashFirstAt?: ClaimStep,
): { untilStalled: () => Promise<void>; release: () => void } {
  let release!: () => void;
  const stalled = new Promise<void>((resolve) => (release = resolve));
  let crashed = crashFirstAt === undefined;
  let reached = false;
  vi.spyOn(t.app.get(ClaimFaults), 'at').mockImplementation(async (at) => {
    if (!crashed && at === crashFirstAt) {
      crashed = true;
      throw new Error(`injected crash at ${at}`);
    }
    if (at !== 'key-taken' || !crashed || reached) return;
    reached = true;
    await stalled;
  });
  return {
    untilStalled: () => vi.waitFor(() => expect(reached).toBe(true), { timeout: 30_000, interval: 20 }),
    release: () => release(),
  };
}

/** The owner named on the user's key is judged dead: a replica whose last beat was a minute ago. */
export async function judgeOwnerDead(t: EventTestApp, userId: string, key: string): Promise<void> {
  const store = t.app.get<Connection>(getConnectionToken());
  const long = new Date(Date.now() - 60_000);
  await store
    .collection<{ _id: string }>('event_server_instances')
    .updateOne({ _id: 'replica-frozen' }, { $set: { startedAt: long, beatAt: long, heartbeatMs: 1_000 } }, { upsert: true });
  await store.collection('idempotency_keys').updateOne({ userId, key }, { $set: { owner: 'replica-frozen' } });
}
