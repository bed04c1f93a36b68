import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Client, type TokenPair, signUp } from './support/client.js';
import { ADMIN, type Stack, startStack } from './support/stack.js';

interface Claim {
  id: string;
  status: string;
  reason?: string;
  userId: string;
}
type Player = Awaited<ReturnType<typeof signUp>>;

const PLAYERS = 60;
const TAPS_PER_PLAYER = 2;
const COUPONS = 25;
const GEMS = 40;
/** The crash comes once this many grants have been answered: the rest of the burst is still in flight. */
const KILL_AFTER_GRANTS = 3;
const BLOCKING = new Set(['GRANTED', 'PENDING']);

/**
 * The event server is SIGKILLed (a real process, no shutdown hook) in the middle of a claim burst through
 * the gateway, then started again. Whatever the crash interrupted, the reconciler finishes or undoes it:
 * no answered grant is lost, no stock unit leaks, nobody holds two blocking claims, and every player can
 * claim again.
 */
describe('a claim burst survives the event server being killed', () => {
  let stack: Stack;
  let api: Client;
  let operator: string;
  let store: MongoClient;

  beforeAll(async () => {
    stack = await startStack('claim_crash', {
      // Short enough for the test: a claim unfinished for 1 s belongs to a request that died.
      eventProcess: { CLAIM_RECONCILE_INTERVAL_MS: '200', CLAIM_STALE_AFTER_MS: '1000' },
    });
    api = new Client(stack.gatewayUrl);
    operator = (await api.post<TokenPair>('/auth/login', ADMIN)).body.accessToken;
    store = await MongoClient.connect(stack.eventDatabase.uri);
  });

  afterAll(async () => {
    await store?.close();
    await stack?.close();
  });

  /** Every claim of the event, all pages. */
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

  /** Waits until the reconciler has finished what the crash left: no claim mid-way, no decision unapplied. */
  async function settled(eventId: string): Promise<void> {
    const db = store.db(stack.eventDatabase.name);
    await vi.waitFor(
      async () => {
        expect(await db.collection('claims').countDocuments({ eventId, status: 'PROCESSING' })).toBe(0);
        expect(await db.collection('claims').countDocuments({ eventId, releasePending: true })).toBe(0);
        expect(await db.collection('claim_decisions').countDocuments({ appliedAt: { $exists: false } })).toBe(0);
      },
      { timeout: 20_000, interval: 100 },
    );
  }

  it('loses no grant and no stock, and leaves nobody with two blocking claims', async () => {
    const now = Date.now();
    const event = await api.post<{ id: string }>(
      '/events',
      {
        title: 'Crash drill',
        startAt: new Date(now - 3_600_000).toISOString(),
        endAt: new Date(now + 86_400_000).toISOString(),
        status: 'ACTIVE',
        approval: 'AUTO',
        condition: { type: 'ACTIVITY_COUNT', activity: 'CRASH_DRILL', count: 1 },
      },
      operator,
    );
    expect(event.status).toBe(201);
    const eventId = event.body.id;
    // Two limited rewards: a claim takes a unit of each or none, so a leak in either shows in the counts.
    for (const reward of [
      { type: 'COUPON', name: 'Crash coupon', quantity: 1, couponCode: 'CRASH-1', stock: COUPONS },
      { type: 'ITEM', name: 'Crash gem', quantity: 3, itemCode: 'GEM', stock: GEMS },
    ]) {
      expect((await api.post(`/events/${eventId}/rewards`, reward, operator)).status).toBe(201);
    }
    const players: Player[] = [];
    for (let i = 0; i < PLAYERS; i += 10) players.push(...(await Promise.all(Array.from({ length: 10 }, () => signUp(api)))));
    const imported = await api.post(
      '/activities',
      { items: players.map((player) => ({ userId: player.id, type: 'CRASH_DRILL' })) },
      operator,
    );
    expect(imported.status).toBe(201);

    // The burst: every player taps several times at once; the server dies after the first few answers.
    let grants = 0;
    let killed: Promise<void> | undefined;
    const burst = await Promise.all(
      players.flatMap((player) =>
        Array.from({ length: TAPS_PER_PLAYER }, async () => {
          const reply = await api.post<Claim & { code?: string }>(
            `/events/${eventId}/claims`,
            undefined,
            player.tokens.accessToken,
          );
          if (reply.status === 201) grants += 1;
          if (grants === KILL_AFTER_GRANTS && !killed) killed = stack.stopEvent();
          return { player, reply };
        }),
      ),
    );
    await killed;
    expect(killed).toBeDefined();
    const grantedBeforeCrash = burst.filter(({ reply }) => reply.status === 201).map(({ reply }) => reply.body.id);
    expect(grantedBeforeCrash.length).toBeGreaterThanOrEqual(KILL_AFTER_GRANTS);
    const lostToTheCrash = burst.filter(({ reply }) => reply.status >= 500);
    // Requests cut off by the crash get the gateway's "upstream unavailable" answers, nothing else.
    for (const { reply } of lostToTheCrash) expect([502, 503, 504]).toContain(reply.status);
    expect(lostToTheCrash.length).toBeGreaterThan(0);
    for (const { reply } of burst.filter(({ reply }) => reply.status < 500 && reply.status !== 201)) {
      expect(reply.status).toBe(409);
      expect(['ALREADY_CLAIMED', 'OUT_OF_STOCK']).toContain(reply.body.code);
    }

    await stack.restartEvent();
    await settled(eventId);

    // Every player tries once more, now that the server is back.
    const retried: number[] = [];
    for (let i = 0; i < players.length; i += 10) {
      const replies = await Promise.all(
        players
          .slice(i, i + 10)
          .map((player) =>
            api.post<Claim & { code?: string }>(`/events/${eventId}/claims`, undefined, player.tokens.accessToken),
          ),
      );
      retried.push(...replies.map((reply) => reply.status));
    }
    expect(retried.every((status) => status === 201 || status === 409)).toBe(true);

    const claims = await allClaims(eventId);
    const granted = claims.filter((claim) => claim.status === 'GRANTED');
    // Nothing the players were told they got is lost.
    const grantedIds = new Set(granted.map((claim) => claim.id));
    for (const id of grantedBeforeCrash) expect(grantedIds.has(id)).toBe(true);
    // No one holds two blocking claims.
    const blockingPerPlayer = new Map<string, number>();
    for (const claim of claims.filter((claim) => BLOCKING.has(claim.status))) {
      blockingPerPlayer.set(claim.userId, (blockingPerPlayer.get(claim.userId) ?? 0) + 1);
    }
    expect([...blockingPerPlayer.values()].every((count) => count === 1)).toBe(true);
    // Interrupted claims gave their units back: with more players than coupons, every coupon is granted
    // exactly once, and the gems taken match the grants one for one.
    expect(granted).toHaveLength(COUPONS);
    expect(claims.every((claim) => claim.status !== 'PENDING')).toBe(true);
    const rewards = await api.get<Array<{ name: string; remaining: number }>>(`/events/${eventId}/rewards`, operator);
    const remaining = Object.fromEntries(rewards.body.map((reward) => [reward.name, reward.remaining]));
    expect(remaining).toEqual({ 'Crash coupon': 0, 'Crash gem': GEMS - COUPONS });
    const units = await store.db(stack.eventDatabase.name).collection('reward_units').countDocuments();
    expect(units).toBe(2 * COUPONS);
  });
});
