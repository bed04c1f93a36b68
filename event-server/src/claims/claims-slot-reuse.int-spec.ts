import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { claim, createClaimableEvent, eligibleUsers, judgeOwnerDead, stallAtKeyTaken } from '../testing/claim-test-kit.js';
import { type EventTestApp, startEventTestApp } from '../testing/event-test-app.js';
import { ClaimRepository } from './claim.repository.js';
import { ClaimsService } from './claims.service.js';

/**
 * A player's tap that waited for their earlier tap in one process may answer from that tap's read of the
 * slot (ClaimsService.slotHolder) only when the read came after it arrived and that tap ended refused: two
 * replicas sharing one store, the other one granting the player in between.
 */
describe("a waiting tap and its player's slot read", () => {
  let a: EventTestApp;
  let b: EventTestApp;

  beforeAll(async () => {
    const env = { CLAIM_CATALOG_TTL_MS: '60000' };
    a = await startEventTestApp('claims_slot_reuse', env);
    const dbName = a.app.get<Connection>(getConnectionToken()).name;
    b = await startEventTestApp('claims_slot_reuse', { ...env, EVENT_DB_NAME: dbName, AUTH_JWKS_URL: a.issuer.jwksUrl });
  });
  afterEach(() => vi.restoreAllMocks());
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('a tap sent after the player was granted elsewhere is told ALREADY_CLAIMED, though the tap it waited for read the slot free before', async () => {
    const operator = a.as('OPERATOR');
    const event = await createClaimableEvent(a, operator, { rewards: [{ type: 'POINT', name: 'P', quantity: 1, stock: 5 }] });
    const [warm, player] = await eligibleUsers(a, operator, 2);
    // Replica b caches the event as it is now (condition: one activity).
    expect((await claim(b, event.id, warm!)).status).toBe(201);
    // The operator raises the condition through replica a (a drops its copy; b sees it within its TTL).
    const raised = await a.request('PATCH', `/events/${event.id}`, {
      token: operator.token,
      body: { condition: { type: 'ACTIVITY_COUNT', activity: 'CLAIM_TEST', count: 2 } },
    });
    expect(raised.status).toBe(200);

    // Tap 1 on a: not eligible, reads the slot (free), then is slow to record its refusal.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const repo = a.app.get(ClaimRepository);
    const real = repo.findBySlot.bind(repo);
    let read = false;
    vi.spyOn(repo, 'findBySlot').mockImplementationOnce(async (slotKey) => {
      const found = await real(slotKey);
      read = true;
      await gate;
      return found;
    });
    const first = claim(a, event.id, player!);
    await vi.waitFor(() => expect(read).toBe(true), { timeout: 10_000, interval: 5 });

    // Meanwhile replica b (old condition) grants the player, and the player sees it.
    const granted = await claim(b, event.id, player!);
    expect(granted.body.status).toBe('GRANTED');

    // Tap 2 on a, sent after that grant was answered: it waits for tap 1.
    const second = claim(a, event.id, player!);
    const service = a.app.get(ClaimsService);
    await vi.waitFor(() => expect(service.load().queued).toBe(1), { timeout: 10_000, interval: 5 });
    release();
    expect((await first).body.code).toBe('CONDITION_NOT_MET'); // its read preceded the grant: fine
    const secondReply = await second;
    // A later tap on a (which waited for none) reads the slot: ALREADY_CLAIMED.
    const third = await claim(a, event.id, player!);
    expect(third.body.code).toBe('ALREADY_CLAIMED');
    // The guarantee: a player who holds a claim is told so.
    expect(secondReply.body.code).toBe('ALREADY_CLAIMED');
  });
  it("the tap waited for found the slot free, then ended with its key's grant recorded elsewhere: the waiting tap is told ALREADY_CLAIMED", async () => {
    const operator = a.as('OPERATOR');
    const event = await createClaimableEvent(a, operator, { rewards: [{ type: 'POINT', name: 'P', quantity: 1, stock: 5 }] });
    const [warm, player] = await eligibleUsers(a, operator, 2);
    expect((await claim(b, event.id, warm!)).status).toBe(201);
    // Replica b stalls after taking the player's key, its copy of the event being the old one.
    const stall = stallAtKeyTaken(b);
    const stalled = claim(b, event.id, player!, 'k1');
    await stall.untilStalled();
    await judgeOwnerDead(a, player!.id, 'k1');
    const raised = await a.request('PATCH', `/events/${event.id}`, {
      token: operator.token,
      body: { condition: { type: 'ACTIVITY_COUNT', activity: 'CLAIM_TEST', count: 2 } },
    });
    expect(raised.status).toBe(200);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const repo = a.app.get(ClaimRepository);
    const real = repo.findBySlot.bind(repo);
    let read = false;
    vi.spyOn(repo, 'findBySlot').mockImplementationOnce(async (slotKey) => {
      const found = await real(slotKey);
      read = true;
      await gate;
      return found;
    });
    // The retry on a takes the key over, is not eligible, finds the slot free.
    const retry = claim(a, event.id, player!, 'k1');
    await vi.waitFor(() => expect(read).toBe(true), { timeout: 10_000, interval: 5 });
    // Another tap of the player (no key) on a waits for it.
    const second = claim(a, event.id, player!);
    await vi.waitFor(() => expect(a.app.get(ClaimsService).load().queued).toBe(1), { timeout: 10_000, interval: 5 });
    // b wakes and records its grant under the key's claim id.
    stall.release();
    expect((await stalled).body.status).toBe('GRANTED');
    release();
    const retried = await retry;
    const secondReply = await second;
    expect(retried.body.status).toBe('GRANTED'); // the retry ends holding the slot
    expect(secondReply.body.code).toBe('ALREADY_CLAIMED');
  });
});
