import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClaimDrill } from './support/claim-drill.js';
import { Client, type TokenPair } from './support/client.js';
import { ADMIN, type Stack, startStack } from './support/stack.js';

const TAPS_PER_PLAYER = 2;
/** The crash comes once this many grants have been answered: the rest of the burst is still in flight. */
const KILL_AFTER_GRANTS = 3;

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

  it('loses no grant and no stock, and leaves nobody with two blocking claims', async () => {
    const drill = await ClaimDrill.prepare(api, operator, store.db(stack.eventDatabase.name), {
      label: 'Crash',
      players: 60,
      coupons: 25,
      gems: 40,
      gemQuantity: 3,
    });

    // The burst: every player taps several times at once; the server dies after the first few answers.
    let grants = 0;
    let killed: Promise<void> | undefined;
    const burst = await drill.burst(TAPS_PER_PLAYER, (reply) => {
      if (reply.status === 201) grants += 1;
      if (grants === KILL_AFTER_GRANTS && !killed) killed = stack.stopEvent();
    });
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
    await drill.settled();

    // Every player tries once more, now that the server is back.
    const retried: number[] = [];
    for (let i = 0; i < drill.players.length; i += 10) {
      const replies = await Promise.all(drill.players.slice(i, i + 10).map((player) => drill.claim(player)));
      retried.push(...replies.map((reply) => reply.status));
    }
    expect(retried.every((status) => status === 201 || status === 409)).toBe(true);

    // Nothing the players were told they got is lost, no one holds two blocking claims, and interrupted
    // claims gave their units back: every coupon is granted exactly once, the gems taken match the grants.
    await drill.expectInvariants(grantedBeforeCrash);
  });
});
