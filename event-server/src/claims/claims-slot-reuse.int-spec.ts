import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type Actor,
  claim,
  createClaimableEvent,
  eligibleUsers,
  judgeOwnerDead,
  stallAtKeyTaken,
} from '../testing/claim-test-kit.js';
import { type EventTestApp, startEventTestApp, startReplicaOf } from '../testing/event-test-app.js';
import { ProgressService } from '../progress/progress.service.js';
import { ClaimRepository } from './claim.repository.js';
import { ClaimsService } from './claims.service.js';

/** Holds the next call of `object[method]` (before it, or after it returned) until released. */
function holdNext<T extends object, K extends keyof T>(object: T, method: K, after: 'before' | 'after') {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const real = (object[method] as (...args: unknown[]) => Promise<unknown>).bind(object);
  let reached = false;
  vi.spyOn(object, method as never).mockImplementationOnce((async (...args: unknown[]) => {
    if (after === 'before') {
      reached = true;
      await gate;
      return real(...args);
    }
    const result = await real(...args);
    reached = true;
    await gate;
    return result;
  }) as never);
  return { release, untilReached: () => vi.waitFor(() => expect(reached).toBe(true), { timeout: 10_000, interval: 5 }) };
}

/**
 * A player's tap that waited for their earlier tap in one process may answer from that tap's read of the
 * slot (ClaimsService.refuseUnlessHeld) only when the read came after it arrived and that tap ended refused: two
 * replicas sharing one store, the other one granting the player in between.
 */
describe("a waiting tap and its player's slot read", () => {
  let a: EventTestApp;
  let b: EventTestApp;

  beforeAll(async () => {
    const env = { CLAIM_CATALOG_TTL_MS: '60000' };
    a = await startEventTestApp('claims_slot_reuse', env);
    b = await startReplicaOf(a, 'claims_slot_reuse', env);
  });
  afterEach(() => vi.restoreAllMocks());
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  /**
   * An event whose condition a player meets, cached by replica b; then the condition raised through replica
   * a (a drops its copy, b keeps its own within its TTL), so that a refuses the player and b grants them.
   */
  async function raisedOnlyForA(before?: (event: { id: string }, player: Actor) => Promise<void>) {
    const operator = a.as('OPERATOR');
    const event = await createClaimableEvent(a, operator, { rewards: [{ type: 'POINT', name: 'P', quantity: 1, stock: 5 }] });
    const [warm, player] = await eligibleUsers(a, operator, 2);
    expect((await claim(b, event.id, warm!)).status).toBe(201);
    await before?.(event, player!);
    const raised = await a.request('PATCH', `/events/${event.id}`, {
      token: operator.token,
      body: { condition: { type: 'ACTIVITY_COUNT', activity: 'CLAIM_TEST', count: 2 } },
    });
    expect(raised.status).toBe(200);
    return { event, player: player! };
  }

  /** As raisedOnlyForA, with the player's claim under key `k1` stalled on b after taking the key, its owner judged dead. */
  async function stalledOnB() {
    const stall = stallAtKeyTaken(b);
    let stalled!: ReturnType<typeof claim>;
    const set = await raisedOnlyForA(async (event, player) => {
      stalled = claim(b, event.id, player, 'k1');
      await stall.untilStalled();
      await judgeOwnerDead(a, player.id, 'k1');
    });
    return { ...set, stall, stalled };
  }

  const waitingTaps = () => a.app.get(ClaimsService).load().queued;

  it('a tap sent after the player was granted elsewhere is told ALREADY_CLAIMED, though the tap it waited for read the slot free before', async () => {
    const { event, player } = await raisedOnlyForA();
    // Tap 1 on a: not eligible, reads the slot (free), then is slow to record its refusal.
    const slotRead = holdNext(a.app.get(ClaimRepository), 'findBySlot', 'after');
    const first = claim(a, event.id, player);
    await slotRead.untilReached();
    // Meanwhile replica b (old condition) grants the player, and the player sees it.
    expect((await claim(b, event.id, player)).body.status).toBe('GRANTED');
    // Tap 2 on a, sent after that grant was answered: it waits for tap 1.
    const second = claim(a, event.id, player);
    await vi.waitFor(() => expect(waitingTaps()).toBe(1), { timeout: 10_000, interval: 5 });
    slotRead.release();
    expect((await first).body.code).toBe('CONDITION_NOT_MET'); // its read preceded the grant
    // The guarantee: a player who holds a claim is told so.
    expect((await second).body.code).toBe('ALREADY_CLAIMED');
    expect((await claim(a, event.id, player)).body.code).toBe('ALREADY_CLAIMED');
  });

  it("the tap waited for found the slot free, then ended with its key's grant recorded elsewhere: the waiting tap is told ALREADY_CLAIMED", async () => {
    const { event, player, stall, stalled } = await stalledOnB();
    // The retry on a takes the key over, is not eligible, finds the slot free.
    const slotRead = holdNext(a.app.get(ClaimRepository), 'findBySlot', 'after');
    const retry = claim(a, event.id, player, 'k1');
    await slotRead.untilReached();
    // Another tap of the player (no key) on a waits for it.
    const second = claim(a, event.id, player);
    await vi.waitFor(() => expect(waitingTaps()).toBe(1), { timeout: 10_000, interval: 5 });
    // b wakes and records its grant under the key's claim id.
    stall.release();
    expect((await stalled).body.status).toBe('GRANTED');
    slotRead.release();
    expect((await retry).body.status).toBe('GRANTED'); // the retry ends with the key's grant
    expect((await second).body.code).toBe('ALREADY_CLAIMED');
  });

  it("the tap waited for read the slot free after the waiting tap arrived, then found its own id taken by its key's grant: the waiting tap is told ALREADY_CLAIMED", async () => {
    const { event, player, stall, stalled } = await stalledOnB();
    // The retry is held before its slot read (in the progress evaluation), so the read starts after tap 2 arrives.
    const evaluation = holdNext(a.app.get(ProgressService), 'evaluate', 'before');
    const slotRead = holdNext(a.app.get(ClaimRepository), 'findBySlot', 'after');
    const retry = claim(a, event.id, player, 'k1');
    await evaluation.untilReached();
    const second = claim(a, event.id, player);
    await vi.waitFor(() => expect(waitingTaps()).toBe(1), { timeout: 10_000, interval: 5 });
    evaluation.release();
    await slotRead.untilReached();
    stall.release();
    expect((await stalled).body.status).toBe('GRANTED');
    slotRead.release();
    expect((await retry).body.status).toBe('GRANTED');
    expect((await second).body.code).toBe('ALREADY_CLAIMED');
  });
});
