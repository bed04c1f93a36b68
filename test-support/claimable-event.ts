// The one "claimable event with eligible players" fixture. It speaks HTTP through whatever the caller
// sends requests with (Nest's inject in an integration test, fetch through the gateway in an e2e test), and
// uses only erasable TypeScript, so a plain `node` script can import it as well.

/** What the fixture needs from a client: the event server's (or the gateway's) HTTP API. */
export interface FixtureApi {
  request<T = Record<string, unknown>>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    options?: { token?: string; body?: unknown },
  ): Promise<{ status: number; body: T }>;
}

export const ELIGIBLE_ACTIVITY = 'CLAIM_TEST';
const HOUR = 60 * 60 * 1000;

export interface RewardInput {
  type: string;
  name: string;
  quantity: number;
  stock?: number;
  couponCode?: string;
  itemCode?: string;
}

export interface ClaimableEventOptions {
  title?: string;
  /** The activity type one of which makes a player eligible; default ELIGIBLE_ACTIVITY. */
  activity?: string;
  approval?: 'AUTO' | 'MANUAL';
  status?: 'ACTIVE' | 'INACTIVE';
  startAt?: Date;
  endAt?: Date;
  /** Default: one unlimited POINT reward. */
  rewards?: RewardInput[];
}

export interface ClaimableEvent {
  id: string;
  activity: string;
  rewardIds: string[];
}

async function expectCreated<T>(api: FixtureApi, path: string, body: unknown, token: string): Promise<T> {
  const reply = await api.request<T>('POST', path, { token, body });
  if (reply.status !== 201) throw new Error(`POST ${path} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

/** An event running now (by default) whose condition is one `activity`, with the given rewards. */
export async function createClaimableEvent(
  api: FixtureApi,
  operatorToken: string,
  options: ClaimableEventOptions = {},
): Promise<ClaimableEvent> {
  const activity = options.activity ?? ELIGIBLE_ACTIVITY;
  const event = await expectCreated<{ id: string }>(
    api,
    '/events',
    {
      title: options.title ?? 'Claim test',
      startAt: (options.startAt ?? new Date(Date.now() - HOUR)).toISOString(),
      endAt: (options.endAt ?? new Date(Date.now() + 24 * HOUR)).toISOString(),
      status: options.status ?? 'ACTIVE',
      approval: options.approval ?? 'AUTO',
      condition: { type: 'ACTIVITY_COUNT', activity, count: 1 },
    },
    operatorToken,
  );
  const rewardIds: string[] = [];
  for (const reward of options.rewards ?? [{ type: 'POINT', name: 'Points', quantity: 100 }]) {
    rewardIds.push((await expectCreated<{ id: string }>(api, `/events/${event.id}/rewards`, reward, operatorToken)).id);
  }
  return { id: event.id, activity, rewardIds };
}

/** Records one `activity` for each player (imports of at most 1,000), which meets the event's condition. */
export async function makeEligible(
  api: FixtureApi,
  operatorToken: string,
  activity: string,
  userIds: readonly string[],
): Promise<void> {
  for (let start = 0; start < userIds.length; start += 1000) {
    const items = userIds.slice(start, start + 1000).map((userId) => ({ userId, type: activity }));
    await expectCreated(api, '/activities', { items }, operatorToken);
  }
}

/** The fixture's client over plain fetch, for scripts (the bench) that have no test client of their own. */
export function fetchApi(base: string): FixtureApi {
  return {
    async request<T>(method: string, path: string, options: { token?: string; body?: unknown } = {}) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(options.token !== undefined && { authorization: `Bearer ${options.token}` }),
          ...(options.body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
  };
}

/**
 * The stored document of a GRANTED claim by another process (another replica, or before a restart) that
 * holds unit `unit` of a claim-held reward: written straight into the store, to set up units already taken.
 */
export function grantedClaimHolding(eventId: string, userId: string, rewardId: string, unit: number): Record<string, unknown> {
  return {
    eventId,
    userId,
    status: 'GRANTED',
    rewards: [],
    slotKey: `${eventId}:${userId}`,
    createdAt: new Date(),
    unitKey: `${rewardId}:${unit}`,
    unitRewardId: rewardId,
  };
}
