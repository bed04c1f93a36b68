import {
  type ClaimableEventOptions,
  ELIGIBLE_ACTIVITY,
  createClaimableEvent as createEvent,
  makeEligible,
  type RewardInput,
} from '../../../test-support/claimable-event.js';
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
