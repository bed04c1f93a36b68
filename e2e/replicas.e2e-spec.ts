import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Client, type TokenPair, signUp } from './support/client.js';
import { type ReplicaStack, startReplicaStack } from './support/replica-stack.js';
import { ADMIN } from './support/stack.js';

interface Claim {
  id: string;
  status: string;
  userId: string;
  code?: string;
}
type Player = Awaited<ReturnType<typeof signUp>>;

const PLAYERS = 40;
const TAPS_PER_PLAYER = 2;
const COUPONS = 15;
const GEMS = 30;
/** One replica dies once this many burst requests have been answered: the rest are still in flight. */
const KILL_AFTER_ANSWERS = 4;
const BLOCKING = new Set(['GRANTED', 'PENDING']);

/**
 * Two event-server replicas (real processes, one database) behind the gateway; one is SIGKILLed in the
 * middle of a claim burst and never comes back. The gateway takes it out of rotation and sends what it
 * never received to the survivor; the survivor's reconciler settles what the dead one left unfinished.
 * Invariants: one blocking claim per player, stock neither oversold nor leaked, no answered grant lost.
 */
describe('two event-server replicas, one killed during a claim burst', () => {
  let stack: ReplicaStack;
  let api: Client;
  let operator: string;
  let store: MongoClient;

  beforeAll(async () => {
    stack = await startReplicaStack('replicas', {
      replicas: 2,
      // A claim unfinished for 2 s belongs to a request that died with its replica.
      event: { CLAIM_RECONCILE_INTERVAL_MS: '200', CLAIM_STALE_AFTER_MS: '2000' },
      // Longer than the test: once refused, the dead replica is not tried again.
      gateway: { UPSTREAM_REPLICA_COOLDOWN_MS: '600000' },
    });
    api = new Client(stack.gatewayUrl);
    operator = (await api.post<TokenPair>('/auth/login', ADMIN)).body.accessToken;
    store = await MongoClient.connect(stack.eventDatabase.uri);
  });

  afterAll(async () => {
    await store?.close();
    await stack?.close();
  });

  async function allClaims(eventId: string): Promise<Claim[]> {
    const claims: Claim[] = [];
    for (let page = 1; ; page += 1) {
      const reply = await api.get<{ items: Claim[]; total: number }>(
        `/claims?eventId=${eventId}&limit=100&page=${page}`,
        operator,
      );
      expect(reply.status).toBe(200);
      claims.push(...reply.body.items);
      if (claims.length >= reply.body.total || reply.body.items.length === 0) return claims;
    }
  }

  async function remaining(eventId: string): Promise<Record<string, number>> {
    const rewards = await api.get<Array<{ name: string; remaining: number }>>(`/events/${eventId}/rewards`, operator);
    expect(rewards.status).toBe(200);
    return Object.fromEntries(rewards.body.map((reward) => [reward.name, reward.remaining]));
  }

  it('keeps every invariant, and the survivor settles what the dead replica left', async () => {
    const now = Date.now();
    const event = await api.post<{ id: string }>(
      '/events',
      {
        title: 'Replica drill',
        startAt: new Date(now - 3_600_000).toISOString(),
        endAt: new Date(now + 86_400_000).toISOString(),
        status: 'ACTIVE',
        approval: 'AUTO',
        condition: { type: 'ACTIVITY_COUNT', activity: 'REPLICA_DRILL', count: 1 },
      },
      operator,
    );
    expect(event.status).toBe(201);
    const eventId = event.body.id;
    for (const reward of [
      { type: 'COUPON', name: 'Replica coupon', quantity: 1, couponCode: 'REPLICA-1', stock: COUPONS },
      { type: 'ITEM', name: 'Replica gem', quantity: 2, itemCode: 'GEM', stock: GEMS },
    ]) {
      expect((await api.post(`/events/${eventId}/rewards`, reward, operator)).status).toBe(201);
    }
    const players: Player[] = [];
    for (let i = 0; i < PLAYERS; i += 10) players.push(...(await Promise.all(Array.from({ length: 10 }, () => signUp(api)))));
    const imported = await api.post(
      '/activities',
      { items: players.map((player) => ({ userId: player.id, type: 'REPLICA_DRILL' })) },
      operator,
    );
    expect(imported.status).toBe(201);

    // The burst, spread by the gateway over both replicas; replica 0 dies after the first few answers.
    let answers = 0;
    let killed: Promise<void> | undefined;
    const burst = await Promise.all(
      players.flatMap((player) =>
        Array.from({ length: TAPS_PER_PLAYER }, async () => {
          const reply = await api.post<Claim>(`/events/${eventId}/claims`, undefined, player.tokens.accessToken);
          answers += 1;
          if (answers >= KILL_AFTER_ANSWERS && !killed) killed = stack.killEvent(0);
          return { player, reply };
        }),
      ),
    );
    await killed;
    expect(killed).toBeDefined();

    // Answers: a decision; the event server's own "try again" (429/503, e.g. CLAIM_INTERRUPTED);
    // or, only for requests the dead replica had received, the gateway's 502/504. Never the gateway's 503
    // UPSTREAM_UNAVAILABLE (a survivor exists, so no request goes unserved for want of a replica), never 500.
    for (const { reply } of burst) {
      if (reply.status === 201) continue;
      expect(reply.body, `${reply.status}`).toMatchObject({ code: expect.any(String) });
      if (reply.status === 409) expect(['ALREADY_CLAIMED', 'OUT_OF_STOCK']).toContain(reply.body.code);
      else if (reply.status === 429 || reply.status === 503) expect(reply.body.code).not.toBe('UPSTREAM_UNAVAILABLE');
      else expect([502, 504]).toContain(reply.status);
    }
    const grantedInBurst = burst.filter(({ reply }) => reply.status === 201).map(({ reply }) => reply.body.id);

    // The survivor's reconciler settles every claim the dead replica left in PROCESSING (a state, not a time).
    const claimsInStore = store.db(stack.eventDatabase.name).collection('claims');
    await vi.waitFor(async () => expect(await claimsInStore.countDocuments({ eventId, status: 'PROCESSING' })).toBe(0), {
      timeout: 30_000,
      interval: 100,
    });

    // Every player tries again, through the gateway, with one replica left, until the answer is final: the
    // event server may say "try again" (a claim that outlived CLAIM_STALE_AFTER_MS on a busy machine is
    // interrupted, 503 CLAIM_INTERRUPTED), but no request goes unserved for want of a replica.
    const finalAnswer = async (player: Player) => {
      for (let attempt = 1; ; attempt++) {
        const reply = await api.post<Claim>(`/events/${eventId}/claims`, undefined, player.tokens.accessToken);
        const tryAgain = reply.status === 429 || (reply.status === 503 && reply.body.code === 'CLAIM_INTERRUPTED');
        if (!tryAgain || attempt === 20) return reply;
      }
    };
    for (let i = 0; i < players.length; i += 10) {
      const replies = await Promise.all(players.slice(i, i + 10).map(finalAnswer));
      for (const reply of replies) expect([201, 409], `${reply.status} ${reply.body.code}`).toContain(reply.status);
    }
    await vi.waitFor(async () => expect(await claimsInStore.countDocuments({ eventId, status: 'PROCESSING' })).toBe(0), {
      timeout: 30_000,
      interval: 100,
    });

    const claims = await allClaims(eventId);
    const granted = claims.filter((claim) => claim.status === 'GRANTED');
    const pending = claims.filter((claim) => claim.status === 'PENDING');
    // No answered grant is lost.
    const grantedIds = new Set(granted.map((claim) => claim.id));
    for (const id of grantedInBurst) expect(grantedIds.has(id)).toBe(true);
    // One blocking claim per player.
    const blockingPerPlayer = new Map<string, number>();
    for (const claim of claims.filter((claim) => BLOCKING.has(claim.status))) {
      blockingPerPlayer.set(claim.userId, (blockingPerPlayer.get(claim.userId) ?? 0) + 1);
    }
    expect([...blockingPerPlayer.values()].every((count) => count === 1)).toBe(true);
    // Stock neither oversold nor leaked: more players than coupons, all of whom tried again, so every coupon
    // is granted exactly once, and the units taken are exactly the grants' (GRANTED + PENDING).
    expect(pending).toHaveLength(0);
    expect(granted).toHaveLength(COUPONS);
    expect(await remaining(eventId)).toEqual({ 'Replica coupon': 0, 'Replica gem': GEMS - COUPONS });
    const units = await store.db(stack.eventDatabase.name).collection('reward_units').countDocuments();
    expect(units).toBe(2 * (granted.length + pending.length));

    // The gateway still reports the event server up: one replica of two is enough.
    expect((await api.get<{ services: Record<string, string> }>('/health')).body.services.event).toBe('up');
  }, 180_000);
});
