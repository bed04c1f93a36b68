import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClaimDrill, type Player } from './support/claim-drill.js';
import { Client, type TokenPair } from './support/client.js';
import { type ReplicaStack, startReplicaStack } from './support/replica-stack.js';
import { ADMIN } from './support/stack.js';

const TAPS_PER_PLAYER = 2;
/** One replica dies once this many burst requests have been answered: the rest are still in flight. */
const KILL_AFTER_ANSWERS = 4;

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
      // A claim unfinished for 2 s belongs to a request that died with its replica. A small claims gate, so
      // that replicas shed part of the burst: the dead replica's keyed taps are resent to a survivor that sheds.
      event: {
        CLAIM_RECONCILE_INTERVAL_MS: '200',
        CLAIM_STALE_AFTER_MS: '2000',
        CLAIM_MAX_IN_FLIGHT: '4',
        CLAIM_MAX_QUEUED: '8',
        // Well inside the gateway's UPSTREAM_TIMEOUT_MS (5 s here): a queued claim is shed, not answered 504.
        CLAIM_QUEUE_TIMEOUT_MS: '1000',
        // The players below honour Retry-After: on a slow machine a long spell of shedding would tell them up
        // to 30 s (see AdmissionGate), and the test would wait that out.
        CLAIM_MAX_RETRY_AFTER_S: '5',
      },
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

  it('keeps every invariant, and the survivor settles what the dead replica left', async () => {
    const drill = await ClaimDrill.prepare(api, operator, store.db(stack.eventDatabase.name), {
      label: 'Replica',
      players: 40,
      coupons: 15,
      gems: 30,
      gemQuantity: 2,
    });

    // The burst, spread by the gateway over both replicas; replica 0 dies after the first few answers.
    let answers = 0;
    let killed: Promise<void> | undefined;
    // Every other player's taps carry an Idempotency-Key (one per tap).
    const keyOf = (player: number, tap: number) => (player % 2 === 0 ? `replica-drill-${player}-${tap}` : undefined);
    const burst = await drill.burst(
      TAPS_PER_PLAYER,
      () => {
        answers += 1;
        if (answers >= KILL_AFTER_ANSWERS && !killed) killed = stack.killEvent(0);
      },
      keyOf,
    );
    await killed;
    expect(killed).toBeDefined();

    // Answers: a decision; the event server's own "try again" (429/503, e.g. CLAIM_INTERRUPTED; 409
    // IDEMPOTENCY_IN_PROGRESS for a key the dead replica was working on, also the gateway's for a keyed tap
    // that got no answer in time); or, only for requests without a key that the dead replica had received,
    // the gateway's 502/504. A tap with a key that the dead replica dropped is sent to the survivor, which
    // answers for the key: a keyed tap never gets a 502 or a 504. Never the gateway's 503
    // UPSTREAM_UNAVAILABLE (a survivor exists, so no request goes unserved for want of a replica), never 500.
    for (const { reply, idempotencyKey } of burst) {
      if (reply.status === 201) continue;
      expect(reply.body, `${reply.status}`).toMatchObject({ code: expect.any(String) });
      if (reply.status === 409) expect(['ALREADY_CLAIMED', 'OUT_OF_STOCK', 'IDEMPOTENCY_IN_PROGRESS']).toContain(reply.body.code);
      else if (reply.status === 429 || reply.status === 503) expect(reply.body.code).not.toBe('UPSTREAM_UNAVAILABLE');
      else
        expect(idempotencyKey === undefined ? [502, 504] : [], `${reply.status} with key ${idempotencyKey}`).toContain(
          reply.status,
        );
    }
    // The kill landed while requests were in flight on the dead replica: some taps without a key had been
    // received by it (502), so keyed taps were in flight there too and were answered by the survivor.
    expect(
      burst.filter(({ reply, idempotencyKey }) => idempotencyKey === undefined && reply.status === 502).length,
    ).toBeGreaterThan(0);
    const grantedInBurst = burst.filter(({ reply }) => reply.status === 201).map(({ reply }) => reply.body.id);

    // A keyed tap told to come back later (429/503: nothing was recorded) has no claim under its key: had
    // the dead replica recorded one, the survivor answered for the key (the gateway marks the resend, and a
    // marked claim is never shed), it did not shed it.
    const claims = store.db(stack.eventDatabase.name).collection('claims');
    for (const { player, reply, idempotencyKey } of burst) {
      if (idempotencyKey === undefined || (reply.status !== 429 && reply.status !== 503)) continue;
      if (reply.body.code === 'CLAIM_INTERRUPTED') continue;
      const recorded = await claims.countDocuments({ userId: player.id, idempotencyKey });
      expect(recorded, `${reply.status} ${reply.body.code} with key ${idempotencyKey}`).toBe(0);
    }

    // The survivor's reconciler settles every claim the dead replica left in PROCESSING (a state, not a time).
    await drill.settled();

    // Every player tries again, through the gateway, with one replica left, until the answer is final: the
    // event server may say "try again" (a claim that outlived CLAIM_STALE_AFTER_MS on a busy machine is
    // interrupted, 503 CLAIM_INTERRUPTED; or shed, 503 CLAIMS_BUSY), but no request goes unserved for want of
    // a replica.
    const finalAnswer = async (player: Player) => {
      for (let attempt = 1; ; attempt++) {
        const reply = await drill.claim(player);
        const busy = reply.status === 503 && reply.body.code === 'CLAIMS_BUSY';
        const tryAgain = reply.status === 429 || busy || (reply.status === 503 && reply.body.code === 'CLAIM_INTERRUPTED');
        if (!tryAgain || attempt === 20) return reply;
        // A shed claim comes back when the server says (its Retry-After), as a client does.
        if (busy) await new Promise((resolve) => setTimeout(resolve, Number(reply.headers.get('retry-after')) * 1000));
      }
    };
    for (let i = 0; i < drill.players.length; i += 10) {
      const replies = await Promise.all(drill.players.slice(i, i + 10).map(finalAnswer));
      for (const reply of replies) expect([201, 409], `${reply.status} ${reply.body.code}`).toContain(reply.status);
    }
    await drill.settled();

    // One blocking claim per player, no answered grant lost, stock neither oversold nor leaked.
    await drill.expectInvariants(grantedInBurst);

    // The gateway still reports the event server up: one replica of two is enough.
    expect((await api.get<{ services: Record<string, string> }>('/health')).body.services.event).toBe('up');
  }, 180_000);
});
