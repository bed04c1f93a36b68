import { expect } from 'vitest';
import type { EventTestApp } from '../testing/event-test-app.js';

/** Test-only helpers shared by the claim integration specs (not part of the server). */
export interface Actor {
  id: string;
  token: string;
}

export const ELIGIBLE_ACTIVITY = 'CLAIM_TEST';
const HOUR = 60 * 60 * 1000;

export interface EventOptions {
  approval?: 'AUTO' | 'MANUAL';
  status?: 'ACTIVE' | 'INACTIVE';
  startAt?: Date;
  endAt?: Date;
  rewards?: Array<{ type: string; name: string; quantity: number; stock?: number; couponCode?: string; itemCode?: string }>;
}

/** An event running now whose condition is one CLAIM_TEST activity, with the given rewards. */
export async function createClaimableEvent(
  t: EventTestApp,
  operator: Actor,
  options: EventOptions = {},
): Promise<{ id: string; rewardIds: string[] }> {
  const created = await t.request<{ id: string }>('POST', '/events', {
    token: operator.token,
    body: {
      title: 'Claim test',
      startAt: (options.startAt ?? new Date(Date.now() - HOUR)).toISOString(),
      endAt: (options.endAt ?? new Date(Date.now() + 24 * HOUR)).toISOString(),
      status: options.status ?? 'ACTIVE',
      approval: options.approval ?? 'AUTO',
      condition: { type: 'ACTIVITY_COUNT', activity: ELIGIBLE_ACTIVITY, count: 1 },
    },
  });
  expect(created.status).toBe(201);
  const rewardIds: string[] = [];
  for (const reward of options.rewards ?? [{ type: 'POINT', name: 'Points', quantity: 100 }]) {
    const added = await t.request<{ id: string }>('POST', `/events/${created.body.id}/rewards`, {
      token: operator.token,
      body: reward,
    });
    expect(added.status).toBe(201);
    rewardIds.push(added.body.id);
  }
  return { id: created.body.id, rewardIds };
}

/** Fresh USER accounts that meet createClaimableEvent's condition (one activity each, one import). */
export async function eligibleUsers(t: EventTestApp, operator: Actor, count: number): Promise<Actor[]> {
  const users = Array.from({ length: count }, () => t.as('USER'));
  for (let start = 0; start < users.length; start += 1000) {
    const batch = users.slice(start, start + 1000);
    const reply = await t.request('POST', '/activities', {
      token: operator.token,
      body: { items: batch.map((user) => ({ userId: user.id, type: ELIGIBLE_ACTIVITY })) },
    });
    expect(reply.status).toBe(201);
  }
  return users;
}

export async function claim(
  t: EventTestApp,
  eventId: string,
  user: Actor,
  idempotencyKey?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await t.app.inject({
    method: 'POST',
    url: `/events/${eventId}/claims`,
    headers: {
      authorization: `Bearer ${user.token}`,
      ...(idempotencyKey !== undefined && { 'idempotency-key': idempotencyKey }),
    },
  });
  return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown> };
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
