import { Logger } from '@nestjs/common';
import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { RESENT_AFTER_DROP_HEADER } from '@reward/server-kit/resent-after-drop';
import { START_BY_HEADER } from '@reward/server-kit/start-by';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { IdempotencyKeyEntity } from '../idempotency/idempotency-key.schema.js';
import { IDEMPOTENCY_RETENTION_MS, IDEMPOTENCY_SWEEP_EVERY_MS, requestHash } from '../idempotency/idempotency.rules.js';
import { InstanceLiveness } from '../idempotency/instance-liveness.js';
import { InstanceEntity } from '../idempotency/instance.schema.js';
import { AuditLogService } from '../audit/audit-log.service.js';
import { RewardUnitEntity } from '../stock/reward-unit.schema.js';
import { type Actor, claim, createClaimableEvent, eligibleUsers, remainingOf } from '../testing/claim-test-kit.js';
import { type EventTestApp, startEventTestApp } from '../testing/event-test-app.js';
import { ClaimFaults, type ClaimStep } from './claim-faults.js';
import { ClaimDecisionRepository } from './claim-decision.repository.js';
import { ClaimDecisionEntity } from './claim-decision.schema.js';
import { ClaimReconciler, UNMARKED_DECISIONS_EVERY_MS } from './claim-reconciler.service.js';
import { ClaimEntity } from './claim.schema.js';
import { holdsStock } from './claim.state-machine.js';

/** A crash at each step of the claim path and of review, then the reconciler: stock and claims agree again. */
describe('claims after a crash at any step', () => {
  let t: EventTestApp;
  let operator: Actor;
  let faults: ClaimFaults;
  let reconciler: ClaimReconciler;
  let claims: Model<ClaimEntity>;
  let units: Model<RewardUnitEntity>;
  let keys: Model<IdempotencyKeyEntity>;

  beforeAll(async () => {
    // No periodic pass: the test decides when the reconciler runs.
    t = await startEventTestApp('claims_recovery', { CLAIM_RECONCILE_INTERVAL_MS: '0' });
    operator = t.as('OPERATOR');
    faults = t.app.get(ClaimFaults);
    reconciler = t.app.get(ClaimReconciler);
    claims = t.app.get(getModelToken(ClaimEntity.name));
    units = t.app.get(getModelToken(RewardUnitEntity.name));
    keys = t.app.get(getModelToken(IdempotencyKeyEntity.name));
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    await t?.close();
  });

  function crashAt(step: ClaimStep): void {
    vi.spyOn(faults, 'at').mockImplementation(async (at) => {
      if (at === step) throw new Error(`injected crash at ${at}`);
    });
  }

  async function recover(): Promise<void> {
    vi.restoreAllMocks();
    await reconciler.reconcile({ staleAfterMs: 0, keyStaleAfterMs: 0 });
  }

  /**
   * Every unit belongs to a claim that holds stock, one per reward (every reward in this file is limited),
   * across every event of the file, counting the unit a claim holds on itself (its event's first limited
   * reward) and its `reward_units` documents; nothing is left in PROCESSING or waiting for its release.
   */
  async function expectConsistent(): Promise<void> {
    const all = await claims.find({}).lean().exec();
    expect(all.filter((c) => c.status === 'PROCESSING')).toEqual([]);
    const held = await units.find({}).lean().exec();
    const unitsByClaim = new Map<string, number>();
    for (const unit of held) unitsByClaim.set(unit.claimId, (unitsByClaim.get(unit.claimId) ?? 0) + 1);
    for (const c of all) {
      const expected = holdsStock(c.status) ? c.rewards.length : 0;
      const onClaim = c.unitKey === undefined ? 0 : 1;
      expect((unitsByClaim.get(c._id.toString()) ?? 0) + onClaim, `${c.status} ${c.reason ?? ''}`).toBe(expected);
      // A unit on a claim is one of its own rewards' (the claim-held one), and only while it holds stock.
      if (c.unitKey !== undefined) expect(c.rewards.map((r) => `${r.rewardId}:`)).toContain(c.unitKey.replace(/\d+$/, ''));
    }
    expect(held.every((unit) => all.some((c) => c._id.toString() === unit.claimId))).toBe(true);
    expect(await claims.countDocuments({ releasePending: true })).toBe(0);
  }

  /** A MANUAL event with one limited reward of `stock`, and one player's PENDING claim on it. */
  async function pendingClaim(stock: number): Promise<{ event: { id: string }; user: Actor; id: string }> {
    const event = await createClaimableEvent(t, operator, {
      approval: 'MANUAL',
      rewards: [{ type: 'POINT', name: 'A', quantity: 1, stock }],
    });
    const [user] = await eligibleUsers(t, operator, 1);
    const pending = await claim(t, event.id, user!);
    expect(pending.body.status).toBe('PENDING');
    return { event, user: user!, id: String(pending.body.id) };
  }

  /** A claim retried with `key` while its first run is unsettled: 409 IDEMPOTENCY_IN_PROGRESS, retry in 1 s. */
  async function expectInProgress(eventId: string, user: Actor, key: string): Promise<void> {
    const answer = await t.app.inject({
      method: 'POST',
      url: `/events/${eventId}/claims`,
      headers: { authorization: `Bearer ${user.token}`, 'idempotency-key': key },
    });
    expect(answer.statusCode).toBe(409);
    expect(answer.json()).toMatchObject({ code: 'IDEMPOTENCY_IN_PROGRESS', retryAfterSeconds: 1 });
    expect(answer.headers['retry-after']).toBe('1');
  }

  /** An AUTO event with two limited rewards of `stock` each: its claims take the long path (PROCESSING, units, decision). */
  function twoLimitedRewards(stock: number): Promise<{ id: string }> {
    return createClaimableEvent(t, operator, {
      rewards: [
        { type: 'POINT', name: 'A', quantity: 1, stock },
        { type: 'ITEM', name: 'B', quantity: 1, stock, itemCode: 'B' },
      ],
    });
  }

  const claimSteps: Array<[ClaimStep, 'freed' | 'granted']> = [
    ['intent-inserted', 'freed'],
    ['unit-taken', 'freed'],
    ['decision-inserted', 'granted'],
    ['claim-projected', 'granted'],
    ['claim-finished', 'granted'],
  ];

  it.each(claimSteps)(
    'claim path, crash after %s -> reconciler leaves the slot %s and stock consistent',
    async (step, outcome) => {
      const event = await twoLimitedRewards(10);
      const [user] = await eligibleUsers(t, operator, 1);
      crashAt(step);
      const crashed = await claim(t, event.id, user!);
      expect(crashed.status).toBe(500);
      await recover();
      await expectConsistent();
      const retry = await claim(t, event.id, user!);
      if (outcome === 'freed') {
        // An interrupted claim granted nothing and frees the slot: the user simply claims again.
        expect(retry.status).toBe(201);
        const interrupted = await t.request<{ items: Array<{ status: string; reason?: string }> }>(
          'GET',
          `/claims/me?eventId=${event.id}&status=REJECTED`,
          { token: user!.token },
        );
        expect(interrupted.body.items).toEqual([expect.objectContaining({ reason: 'INTERRUPTED' })]);
      } else {
        expect(retry.status).toBe(409);
        expect(retry.body.code).toBe('ALREADY_CLAIMED');
      }
      expect(await remainingOf(t, event.id, user!)).toEqual([9, 9]);
      await expectConsistent();
    },
  );

  it('one limited reward (its unit rides on the claim), crash right after the insert -> a grant that stands, nothing to settle', async () => {
    const event = await createClaimableEvent(t, operator, { rewards: [{ type: 'POINT', name: 'A', quantity: 1, stock: 4 }] });
    const [user] = await eligibleUsers(t, operator, 1);
    crashAt('claim-finished');
    expect((await claim(t, event.id, user!)).status).toBe(500);
    await recover();
    await expectConsistent();
    // The one insert recorded the grant and its unit together: there was nothing for the reconciler to do.
    expect((await claim(t, event.id, user!)).body.code).toBe('ALREADY_CLAIMED');
    expect(await remainingOf(t, event.id, user!)).toEqual([3]);
    const mine = await t.request<{ items: Array<{ status: string }> }>('GET', `/claims/me?eventId=${event.id}`, {
      token: user!.token,
    });
    expect(mine.body.items.map((item) => item.status).sort()).toEqual(['GRANTED', 'REJECTED']);
    await expectConsistent();
  });

  // The first reward's unit is on the claim, so it goes with the projection: no unit document to release.
  it.each(['decision-inserted', 'claim-projected'] as const)(
    'out of stock on the second reward, crash after %s -> the first reward unit comes back',
    async (step) => {
      const event = await createClaimableEvent(t, operator, {
        rewards: [
          { type: 'POINT', name: 'A', quantity: 1, stock: 5 },
          { type: 'ITEM', name: 'B', quantity: 1, stock: 1, itemCode: 'B' },
        ],
      });
      const [winner, loser] = await eligibleUsers(t, operator, 2);
      // A race made deterministic: the winner takes B's only unit after the loser saw stock left and
      // recorded its intent, so the loser takes A, is refused B, and gives A back (crashing at `step`).
      let phase: 'loser-checked' | 'winner-claiming' | 'loser-taking' = 'loser-checked';
      vi.spyOn(faults, 'at').mockImplementation(async (at) => {
        if (phase === 'loser-checked' && at === 'intent-inserted') {
          phase = 'winner-claiming';
          expect((await claim(t, event.id, winner!)).status).toBe(201);
          phase = 'loser-taking';
        } else if (phase === 'loser-taking' && at === step) {
          throw new Error(`injected crash at ${at}`);
        }
      });
      expect((await claim(t, event.id, loser!)).status).toBe(500);
      await recover();
      await expectConsistent();
      expect(await remainingOf(t, event.id, winner!)).toEqual([4, 0]);
      const again = await claim(t, event.id, loser!);
      expect(again.body.code).toBe('OUT_OF_STOCK');
    },
  );

  it.each(['decision-inserted', 'claim-projected', 'units-released'] as const)(
    'revoke and reject, crash after %s -> the decision stands and the stock comes back',
    async (step) => {
      const event = await createClaimableEvent(t, operator, {
        approval: 'MANUAL',
        rewards: [{ type: 'POINT', name: 'A', quantity: 1, stock: 5 }],
      });
      const [first, second] = await eligibleUsers(t, operator, 2);
      const a = await claim(t, event.id, first!);
      const b = await claim(t, event.id, second!);
      expect((await t.request('POST', `/claims/${String(a.body.id)}/approve`, { token: operator.token })).status).toBe(200);
      crashAt(step);
      const revoke = await t.request('POST', `/claims/${String(a.body.id)}/revoke`, {
        token: operator.token,
        body: { note: 'fraud' },
      });
      const reject = await t.request('POST', `/claims/${String(b.body.id)}/reject`, {
        token: operator.token,
        body: { note: 'no' },
      });
      expect([revoke.status, reject.status]).toEqual([500, 500]);
      await recover();
      await expectConsistent();
      expect((await t.request('GET', `/claims/${String(a.body.id)}`, { token: first!.token })).body).toMatchObject({
        status: 'REVOKED',
        note: 'fraud',
      });
      expect((await t.request('GET', `/claims/${String(b.body.id)}`, { token: second!.token })).body).toMatchObject({
        status: 'REJECTED',
        reason: 'REVIEW_REJECTED',
      });
      expect(await remainingOf(t, event.id, first!)).toEqual([5]);
      // The reviewer's retry (its first answer was a 500) finds its decision made: answered with it, not a second
      // transition (the first note stays).
      const retried = await t.request('POST', `/claims/${String(a.body.id)}/revoke`, {
        token: operator.token,
        body: { note: 'x' },
      });
      expect(retried.status).toBe(200);
      expect(retried.body).toMatchObject({ status: 'REVOKED', note: 'fraud' });
      expect(await remainingOf(t, event.id, first!)).toEqual([5]);
    },
  );

  it("a reviewer's repeated decision is answered only while it stands: two at once both 200 and one audit entry; after another's revoke, 409 even when a stale write-back shows it again", async () => {
    const event = await createClaimableEvent(t, operator, {
      approval: 'MANUAL',
      rewards: [{ type: 'POINT', name: 'A', quantity: 1, stock: 5 }],
    });
    const [user] = await eligibleUsers(t, operator, 1);
    const pending = await claim(t, event.id, user!);
    expect(pending.body.status).toBe('PENDING');
    const id = String(pending.body.id);
    const approve = () => t.request('POST', `/claims/${id}/approve`, { token: operator.token });
    const both = await Promise.all([approve(), approve()]);
    expect(both.map((reply) => [reply.status, reply.body.status])).toEqual([
      [200, 'GRANTED'],
      [200, 'GRANTED'],
    ]);
    const approved = await claims.collection.findOne({ slotKey: `${event.id}:${user!.id}` });
    expect(approved?.status).toBe('GRANTED');
    const revoke = await t.request('POST', `/claims/${id}/revoke`, { token: t.as('OPERATOR').token, body: { note: 'fraud' } });
    expect(revoke.status).toBe(200);
    // An update that read the claim before the revoke writes it back: the document shows the approval again.
    await claims.collection.replaceOne({ _id: approved!._id }, approved!);
    const again = await approve();
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('INVALID_TRANSITION');
    const trail = await t.request<{ items: Array<{ action: string }> }>('GET', `/audit-logs?targetId=${id}`, {
      token: t.as('AUDITOR').token,
    });
    expect(trail.body.items.map((entry) => entry.action)).toEqual(['CLAIM_REVOKED', 'CLAIM_APPROVED']);
  });

  it('a revoke right after an approval whose projection a stale write-back undid is decided from the decisions, not refused', async () => {
    const { event, user, id } = await pendingClaim(3);
    // The claim as an update running alongside (the payout relay's) read it before the approval.
    const stale = await claims.collection.findOne({ slotKey: `${event.id}:${user!.id}` });
    expect(stale?.status).toBe('PENDING');
    const approved = await t.request('POST', `/claims/${id}/approve`, { token: operator.token });
    expect(approved.body.status).toBe('GRANTED');
    // That update writes the whole document back before the reconciler projects the approval again.
    await claims.collection.replaceOne({ _id: stale!._id }, stale!);
    const revoke = await t.request('POST', `/claims/${id}/revoke`, { token: t.as('OPERATOR').token, body: { note: 'fraud' } });
    expect([revoke.status, revoke.body.status, revoke.body.code]).toEqual([200, 'REVOKED', undefined]);
    await recover();
    expect((await t.request('GET', `/claims/${id}`, { token: user!.token })).body).toMatchObject({
      status: 'REVOKED',
      note: 'fraud',
    });
    expect(await remainingOf(t, event.id, user!)).toEqual([3]);
    await expectConsistent();
  });

  it("a reviewer's decision undone by a stale write-back of its claim (FerretDB's read-then-write updates) is applied again by the reconciler", async () => {
    const event = await createClaimableEvent(t, operator, { rewards: [{ type: 'POINT', name: 'A', quantity: 1, stock: 5 }] });
    const [user] = await eligibleUsers(t, operator, 1);
    const granted = await claim(t, event.id, user!);
    expect(granted.body.status).toBe('GRANTED');
    // The claim as an update running alongside (the payout relay's) read it before the revoke.
    const stale = await claims.collection.findOne({ slotKey: `${event.id}:${user!.id}` });
    expect(stale?.unitKey).toBeDefined();
    const revoke = await t.request('POST', `/claims/${String(granted.body.id)}/revoke`, {
      token: operator.token,
      body: { note: 'fraud' },
    });
    expect(revoke.status).toBe(200);
    expect(await remainingOf(t, event.id, user!)).toEqual([5]);
    // That update writes the whole document it read back, as FerretDB v1 does: the revoke is undone.
    await claims.collection.replaceOne({ _id: stale!._id }, stale!);
    // Read in the store: the event's views reuse the count this process made after its own revoke.
    expect(await claims.collection.countDocuments({ unitRewardId: event.rewardIds[0] })).toBe(1);
    const decisions = t.app.get<Model<ClaimDecisionEntity>>(getModelToken(ClaimDecisionEntity.name));
    // The revoke is applied (the payout relay may go on) and marked to be projected once more.
    expect(await decisions.countDocuments({ claimId: String(granted.body.id), confirmPending: true })).toBe(1);
    expect(await decisions.countDocuments({ claimId: String(granted.body.id), appliedAt: { $exists: false } })).toBe(0);

    await recover();
    const mine = await t.request('GET', `/claims/${String(granted.body.id)}`, { token: user!.token });
    expect(mine.body).toMatchObject({ status: 'REVOKED', note: 'fraud' });
    expect(await remainingOf(t, event.id, user!)).toEqual([5]);
    expect(await decisions.countDocuments({ claimId: String(granted.body.id), confirmPending: true })).toBe(0);
    await expectConsistent();
  });

  it("projecting a reviewer's decision once more never undoes a later one (approve, then revoke)", async () => {
    const { event, user, id } = await pendingClaim(3);
    expect((await t.request('POST', `/claims/${id}/approve`, { token: operator.token })).status).toBe(200);
    expect((await t.request('POST', `/claims/${id}/revoke`, { token: operator.token, body: { note: 'x' } })).status).toBe(200);
    await recover();
    expect((await t.request('GET', `/claims/${id}`, { token: user!.token })).body.status).toBe('REVOKED');
    expect(await remainingOf(t, event.id, user!)).toEqual([3]);
    await expectConsistent();
  });

  it('a revoke made while the reconciler projects the approval once more is not undone by that projection', async () => {
    const { event, user, id } = await pendingClaim(3);
    expect((await t.request('POST', `/claims/${id}/approve`, { token: operator.token })).status).toBe(200);
    // The reconciler looks for a decision after the approval, finds none, and before its projection lands a
    // reviewer revokes the claim (decided and projected in full).
    const records = t.app.get(ClaimDecisionRepository);
    const find = records.find.bind(records);
    let revoked: Promise<{ status: number }> | undefined;
    vi.spyOn(records, 'find').mockImplementation(async (claimId, fromStatus) => {
      const found = await find(claimId, fromStatus);
      if (claimId === id && fromStatus === 'GRANTED' && revoked === undefined) {
        revoked = t.request('POST', `/claims/${id}/revoke`, { token: operator.token, body: { note: 'fraud' } });
        expect((await revoked).status).toBe(200);
      }
      return found;
    });
    await reconciler.reconcile({ staleAfterMs: 0, keyStaleAfterMs: 0 });
    expect(revoked).toBeDefined();
    vi.restoreAllMocks();
    expect((await t.request('GET', `/claims/${id}`, { token: user.token })).body).toMatchObject({
      status: 'REVOKED',
      note: 'fraud',
    });
    expect(await claims.countDocuments({ _id: id, status: 'REVOKED' })).toBe(1);
    expect(await remainingOf(t, event.id, user)).toEqual([3]);
    await recover();
    await expectConsistent();
  });

  it('approve crashing after its decision: the reconciler finishes the grant', async () => {
    const { event, user, id } = await pendingClaim(3);
    crashAt('decision-inserted');
    expect((await t.request('POST', `/claims/${id}/approve`, { token: operator.token })).status).toBe(500);
    await recover();
    await expectConsistent();
    expect((await t.request('GET', `/claims/${id}`, { token: user.token })).body.status).toBe('GRANTED');
    expect(await remainingOf(t, event.id, user!)).toEqual([2]);
  });

  it("a reviewer's decision whose request died before its audit entry, never sent again: the reconciler applies it and writes the entry, once", async () => {
    const reviewed: Array<{ id: string; action: 'approve' | 'reject' | 'revoke'; entry: string; after: string }> = [];
    for (const [action, entry, after] of [
      ['approve', 'CLAIM_APPROVED', 'GRANTED'],
      ['reject', 'CLAIM_REJECTED', 'REJECTED'],
    ] as const) {
      const { id } = await pendingClaim(3);
      reviewed.push({ id, action, entry, after });
    }
    {
      const { id } = await pendingClaim(3);
      expect((await t.request('POST', `/claims/${id}/approve`, { token: operator.token })).status).toBe(200);
      reviewed.push({ id, action: 'revoke', entry: 'CLAIM_REVOKED', after: 'REVOKED' });
    }
    const audit = t.app.get(AuditLogService);
    for (const { id, action } of reviewed) {
      // The replica dies right after the decision record, before its entry (as far as this request goes): nobody
      // sends the review again.
      const spy = vi.spyOn(audit, 'recordOnce').mockRejectedValueOnce(new Error('replica killed'));
      try {
        const cut = await t.request('POST', `/claims/${id}/${action}`, {
          token: operator.token,
          ...(action !== 'approve' && { body: { note: 'n' } }),
        });
        expect(cut.status).toBe(500);
      } finally {
        spy.mockRestore();
      }
    }
    await recover();
    await recover();
    await expectConsistent();
    const auditor = t.as('AUDITOR');
    for (const { id, entry, after } of reviewed) {
      expect((await t.request('GET', `/claims/${id}`, { token: operator.token })).body.status).toBe(after);
      const trail = await t.request<{ items: Array<{ action: string; actorId: string }> }>('GET', `/audit-logs?targetId=${id}`, {
        token: auditor.token,
      });
      expect(trail.body.items.filter((item) => item.action === entry)).toEqual([
        expect.objectContaining({ action: entry, actorId: operator.id }),
      ]);
    }
  });

  it("a reviewer's decision whose audit entry cannot be written waits for the next pass; the rest of the pass goes on", async () => {
    const [first, second] = [await pendingClaim(3), await pendingClaim(3)];
    const audit = t.app.get(AuditLogService);
    for (const { id } of [first, second]) {
      const spy = vi.spyOn(audit, 'recordOnce').mockRejectedValueOnce(new Error('replica killed'));
      try {
        expect((await t.request('POST', `/claims/${id}/approve`, { token: operator.token })).status).toBe(500);
      } finally {
        spy.mockRestore();
      }
    }
    // The store refuses the first decision's entry, pass after pass.
    const recordOnce = audit.recordOnce.bind(audit);
    const refusing = vi
      .spyOn(audit, 'recordOnce')
      .mockImplementation((entry, once, at) =>
        entry.targetId === first.id ? Promise.reject(new Error('audit store refuses')) : recordOnce(entry, once, at),
      );
    // The stored claim (the API shows a claim as its decision made it, applied or not).
    const status = async (id: string) => (await claims.findById(id).lean().exec())?.status;
    try {
      await reconciler.reconcile({ staleAfterMs: 0, keyStaleAfterMs: 0 });
      await reconciler.reconcile({ staleAfterMs: 0, keyStaleAfterMs: 0 });
      expect(await status(second.id)).toBe('GRANTED');
      // Not applied without its entry: the stored claim still waits for review.
      expect(await status(first.id)).toBe('PENDING');
    } finally {
      refusing.mockRestore();
    }
    await recover();
    expect(await status(first.id)).toBe('GRANTED');
    const auditor = t.as('AUDITOR');
    for (const { id } of [first, second]) {
      const trail = await t.request<{ items: Array<{ action: string }> }>('GET', `/audit-logs?targetId=${id}`, {
        token: auditor.token,
      });
      expect(trail.body.items.map((item) => item.action)).toEqual(['CLAIM_APPROVED']);
    }
    await expectConsistent();
  });

  it("a reviewer's decision whose request died before its audit entry, then lost to by another reviewer's request: still audited, once", async () => {
    const { id } = await pendingClaim(3);
    const audit = t.app.get(AuditLogService);
    const spy = vi.spyOn(audit, 'recordOnce').mockRejectedValueOnce(new Error('replica killed'));
    try {
      expect((await t.request('POST', `/claims/${id}/approve`, { token: operator.token })).status).toBe(500);
    } finally {
      spy.mockRestore();
    }
    // Another operator's rejection meets the approval's decision and applies it (the claim still shows PENDING).
    const lost = await t.request('POST', `/claims/${id}/reject`, { token: t.as('OPERATOR').token, body: { note: 'n' } });
    expect([lost.status, lost.body.code]).toEqual([409, 'INVALID_TRANSITION']);
    await recover();
    await expectConsistent();
    const trail = await t.request<{ items: Array<{ action: string; actorId: string }> }>('GET', `/audit-logs?targetId=${id}`, {
      token: t.as('AUDITOR').token,
    });
    expect(trail.body.items).toEqual([expect.objectContaining({ action: 'CLAIM_APPROVED', actorId: operator.id })]);
  });

  it('an unaudited decision applied by the reconciler carries along a later one too young for its pass: both audited, once', async () => {
    const { id } = await pendingClaim(3);
    const audit = t.app.get(AuditLogService);
    const reviewer = t.as('OPERATOR');
    for (const [action, actor] of [
      ['approve', operator],
      ['revoke', reviewer],
    ] as const) {
      const spy = vi.spyOn(audit, 'recordOnce').mockRejectedValueOnce(new Error('replica killed'));
      try {
        const cut = await t.request('POST', `/claims/${id}/${action}`, {
          token: actor.token,
          ...(action === 'revoke' && { body: { note: 'n' } }),
        });
        expect(cut.status).toBe(500);
      } finally {
        spy.mockRestore();
      }
      if (action === 'approve') await new Promise((resolve) => setTimeout(resolve, 400));
    }
    // A pass whose grace (300 ms) finds the approval but not the revoke made just now.
    await reconciler.reconcile({ staleAfterMs: 300, keyStaleAfterMs: 0 });
    await recover();
    await expectConsistent();
    expect((await t.request('GET', `/claims/${id}`, { token: operator.token })).body.status).toBe('REVOKED');
    const trail = await t.request<{ items: Array<{ action: string; actorId: string }> }>('GET', `/audit-logs?targetId=${id}`, {
      token: t.as('AUDITOR').token,
    });
    expect(trail.body.items).toEqual([
      expect.objectContaining({ action: 'CLAIM_REVOKED', actorId: reviewer.id }),
      expect.objectContaining({ action: 'CLAIM_APPROVED', actorId: operator.id }),
    ]);
  });

  it('Idempotency-Key of a crashed request: completed from its claim, or forgotten when nothing lasting was recorded', async () => {
    // Two limited rewards: the claim takes the long path (PROCESSING, units, decision), with every step to crash at.
    const event = await twoLimitedRewards(3);
    const [done, early] = await eligibleUsers(t, operator, 2);

    // Decided before the crash: its key is still IN_PROGRESS, but its claim is settled, so the retry gets it.
    crashAt('claim-finished');
    expect((await claim(t, event.id, done!, 'k-done')).status).toBe(500);
    vi.restoreAllMocks();
    const retried = await claim(t, event.id, done!, 'k-done');
    expect(retried.status).toBe(201);
    expect(retried.body.status).toBe('GRANTED');
    expect(await keys.countDocuments({ key: 'k-done', state: 'DONE' })).toBe(1);
    // Stuck in PROCESSING: the retry cannot know yet (409 with Retry-After) until the reconciler settles it.
    crashAt('decision-inserted');
    expect((await claim(t, event.id, early!, 'k-early')).status).toBe(500);
    vi.restoreAllMocks();
    await expectInProgress(event.id, early!, 'k-early');
    await recover();

    const replay = await claim(t, event.id, early!, 'k-early');
    expect(replay.status).toBe(201);
    expect(replay.body.status).toBe('GRANTED');
    expect(await keys.countDocuments({ state: 'IN_PROGRESS' })).toBe(0);
    expect((await claim(t, event.id, done!, 'k-done')).body.id).toBe(retried.body.id);
    expect(await remainingOf(t, event.id, done!)).toEqual([1, 1]);
    await expectConsistent();
  });

  it('Idempotency-Key of a request that died before recording anything lasting: forgotten, and the retry claims afresh', async () => {
    const event = await twoLimitedRewards(3);
    const [early] = await eligibleUsers(t, operator, 1);
    crashAt('intent-inserted');
    expect((await claim(t, event.id, early!, 'k-early')).status).toBe(500);
    await recover();
    const fresh = await claim(t, event.id, early!, 'k-early');
    expect(fresh.status).toBe(201);
    expect(fresh.body.status).toBe('GRANTED');
    expect(await remainingOf(t, event.id, early!)).toEqual([2, 2]);
    await expectConsistent();
  });

  it("Idempotency-Key of a replica that died before recording its claim: a retry takes it over at once; a live owner's is still in progress", async () => {
    const event = await createClaimableEvent(t, operator, {
      rewards: [{ type: 'COUPON', name: 'C', quantity: 1, stock: 5, couponCode: 'C' }],
    });
    const [gone, missing, alive, legacy] = await eligibleUsers(t, operator, 4);
    const instances = t.app.get<Model<InstanceEntity>>(getModelToken(InstanceEntity.name));
    const long = new Date(Date.now() - 60_000);
    await instances.create([
      { _id: 'replica-gone', startedAt: long, beatAt: long, heartbeatMs: 1_000 },
      { _id: 'replica-alive', startedAt: long, beatAt: new Date(), heartbeatMs: 60_000 },
    ]);
    // Keys as a replica leaves them when it dies after taking the key and before its claim insert.
    const leftBy = (user: Actor, key: string, owner?: string) =>
      keys.create({
        userId: user.id,
        key,
        requestHash: requestHash(`POST /events/${event.id}/claims`, {}),
        state: 'IN_PROGRESS',
        createdAt: new Date(),
        ...(owner !== undefined && { owner }),
      });
    await leftBy(gone!, 'k-gone', 'replica-gone');
    await leftBy(missing!, 'k-missing', 'replica-never-recorded');
    await leftBy(alive!, 'k-alive', 'replica-alive');
    await leftBy(legacy!, 'k-legacy');

    // Owner silent for a minute, or with no record at all: decided now, no reconciler pass needed.
    for (const [user, key] of [
      [gone!, 'k-gone'],
      [missing!, 'k-missing'],
    ] as const) {
      const taken = await claim(t, event.id, user, key);
      expect(taken.status, key).toBe(201);
      expect(taken.body.status, key).toBe('GRANTED');
      const record = await keys.findOne({ key }).lean().exec();
      expect(record, key).toMatchObject({ state: 'DONE' });
      expect((await claim(t, event.id, user, key)).body, key).toEqual(taken.body);
    }
    // Owner alive (it may still record its claim), or a key that names no owner: still in progress.
    for (const [user, key] of [
      [alive!, 'k-alive'],
      [legacy!, 'k-legacy'],
    ] as const) {
      const reply = await t.app.inject({
        method: 'POST',
        url: `/events/${event.id}/claims`,
        headers: { authorization: `Bearer ${user.token}`, 'idempotency-key': key },
      });
      expect(reply.statusCode, key).toBe(409);
      expect(reply.json<{ code: string }>().code, key).toBe('IDEMPOTENCY_IN_PROGRESS');
    }
    expect(await remainingOf(t, event.id, gone!)).toEqual([3]);
    await expectConsistent();

    // This process's own record: it beats (a state to wait for, not a time).
    const own = t.app.get(InstanceLiveness).id;
    const first = await instances.findOne({ _id: own }).lean().exec();
    expect(first).toMatchObject({ heartbeatMs: 1_000 });
    await vi.waitFor(
      async () =>
        expect((await instances.findOne({ _id: own }).lean().exec())!.beatAt.getTime()).toBeGreaterThan(first!.beatAt.getTime()),
      { timeout: 30_000, interval: 100 },
    );
    // Just after a stored beat, a key this process takes names it as the owner.
    const [fresh] = await eligibleUsers(t, operator, 1);
    expect((await claim(t, event.id, fresh!, 'k-fresh')).status).toBe(201);
    expect(await keys.findOne({ key: 'k-fresh' }).lean().exec()).toMatchObject({ owner: own });
  });

  it('a claim that reaches this replica after its start-by time decides nothing: a resent one is answered for its key, any other is shed', async () => {
    const event = await createClaimableEvent(t, operator, {
      rewards: [{ type: 'COUPON', name: 'C', quantity: 1, stock: 5, couponCode: 'C' }],
    });
    const [orphaned, finished, fresh] = await eligibleUsers(t, operator, 3);
    const instances = t.app.get<Model<InstanceEntity>>(getModelToken(InstanceEntity.name));
    const long = new Date(Date.now() - 60_000);
    await instances.create({ _id: 'replica-gone-late', startedAt: long, beatAt: long, heartbeatMs: 1_000 });
    // A key the dead replica took before its claim insert: in time, a retry would take it over and decide.
    await keys.create({
      userId: orphaned!.id,
      key: 'k-orphaned',
      requestHash: requestHash(`POST /events/${event.id}/claims`, {}),
      state: 'IN_PROGRESS',
      createdAt: new Date(),
      owner: 'replica-gone-late',
    });
    const granted = await claim(t, event.id, finished!, 'k-finished');
    expect(granted.status).toBe(201);

    const claimWith = (user: Actor, key: string | undefined, startBy: number, resent: boolean) =>
      t.app.inject({
        method: 'POST',
        url: `/events/${event.id}/claims`,
        headers: {
          authorization: `Bearer ${user.token}`,
          [START_BY_HEADER]: String(startBy),
          ...(key !== undefined && { 'idempotency-key': key }),
          ...(resent && { [RESENT_AFTER_DROP_HEADER]: '1' }),
        },
      });
    const warned = vi.spyOn(Logger.prototype, 'warn');
    const past = Date.now() - 1;
    // Resent after a drop, too late: a dead owner's key stays as it was, nothing is decided.
    const orphanedAnswer = await claimWith(orphaned!, 'k-orphaned', past, true);
    expect(orphanedAnswer.statusCode).toBe(409);
    expect(orphanedAnswer.json<{ code: string }>().code).toBe('IDEMPOTENCY_IN_PROGRESS');
    expect(orphanedAnswer.headers['retry-after']).toBe('1');
    expect(await keys.findOne({ key: 'k-orphaned' }).lean().exec()).toMatchObject({
      state: 'IN_PROGRESS',
      owner: 'replica-gone-late',
    });
    expect(await claims.countDocuments({ userId: orphaned!.id })).toBe(0);
    // ...and a finished key's outcome is the answer, as in time.
    const finishedAnswer = await claimWith(finished!, 'k-finished', past, true);
    expect(finishedAnswer.statusCode).toBe(201);
    expect(finishedAnswer.json()).toEqual(granted.body);
    // Any other claim that late is shed: 503, nothing recorded (its key neither).
    for (const [key, resent] of [
      [undefined, false],
      ['k-fresh', false],
      ['k-fresh', true],
    ] as const) {
      const shed = await claimWith(fresh!, key, past, resent);
      expect(shed.statusCode, `${key} ${resent}`).toBe(503);
      expect(shed.json<{ code: string }>().code).toBe('CLAIMS_BUSY');
      expect(shed.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    }
    expect(await claims.countDocuments({ userId: fresh!.id })).toBe(0);
    expect(await keys.countDocuments({ userId: fresh!.id })).toBe(0);
    // Shed as soon as it arrives (not resent): before its token is even verified.
    const unverified = await claimWith({ ...fresh!, token: 'not-a-token' }, 'k-fresh', past, false);
    expect(unverified.statusCode).toBe(503);
    // Said in the log (at most every 10 s): on an idle server it means the clocks disagree.
    expect(warned).toHaveBeenCalledWith(expect.stringContaining('arrived past their start-by time'));

    // In time, the same requests decide: the dead owner's key is taken over, the fresh player claims.
    const future = Date.now() + 60_000;
    const takenOver = await claimWith(orphaned!, 'k-orphaned', future, true);
    expect(takenOver.statusCode).toBe(201);
    expect(takenOver.json<{ status: string }>().status).toBe('GRANTED');
    expect((await claimWith(fresh!, 'k-fresh', future, false)).statusCode).toBe(201);
    expect(await remainingOf(t, event.id, fresh!)).toEqual([2]);
    await expectConsistent();
  });

  it('a key taken over (or released) while its first run goes on to record the claim: the retry answers with that claim, records nothing new', async () => {
    const event = await createClaimableEvent(t, operator, {
      rewards: [{ type: 'COUPON', name: 'C', quantity: 1, stock: 5, couponCode: 'C' }],
    });
    const [user, other] = await eligibleUsers(t, operator, 2);
    const first = await claim(t, event.id, user!, 'k-raced');
    expect(first.status).toBe(201);
    // As when a retry took the key over from a stalled replica that then recorded its claim anyway.
    await keys.deleteOne({ key: 'k-raced' }).exec();
    const retried = await claim(t, event.id, user!, 'k-raced');
    expect(retried.status).toBe(201);
    expect(retried.body).toEqual(first.body);
    expect(await claims.countDocuments({ userId: user!.id })).toBe(1);
    expect(await keys.findOne({ key: 'k-raced' }).lean().exec()).toMatchObject({ state: 'DONE' });
    expect((await claim(t, event.id, user!, 'k-raced')).body).toEqual(first.body);
    // Another key (another intent) is refused as always, and so is a claim under someone else's key.
    const again = await claim(t, event.id, user!, 'k-another');
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('ALREADY_CLAIMED');
    expect((await claim(t, event.id, other!, 'k-raced')).status).toBe(201);
    expect(await remainingOf(t, event.id, user!)).toEqual([3]);

    // A holder with the same key that a reviewer revoked since is not this request's answer any more: the
    // new request under that key text is refused as any other (API.md: after a revoke, 409 ALREADY_CLAIMED).
    const revoked = await t.request('POST', `/claims/${String(first.body.id)}/revoke`, {
      token: operator.token,
      body: { note: 'fraud' },
    });
    expect(revoked.status).toBe(200);
    await keys.deleteOne({ key: 'k-raced', userId: user!.id }).exec();
    const afterRevoke = await claim(t, event.id, user!, 'k-raced');
    expect(afterRevoke.status).toBe(409);
    expect(afterRevoke.body.code).toBe('ALREADY_CLAIMED');
    await expectConsistent();
  });

  it('a key taken over while its first run left its claim PROCESSING: the retry is told IDEMPOTENCY_IN_PROGRESS, records nothing, and gets the grant once the claim is settled', async () => {
    const event = await twoLimitedRewards(3);
    const [user] = await eligibleUsers(t, operator, 1);
    // The first run stops after its claim took the slot (PROCESSING, carrying the key), before any decision.
    crashAt('intent-inserted');
    expect((await claim(t, event.id, user!, 'k-stuck')).status).toBe(500);
    vi.restoreAllMocks();
    // As when a retry took the key over from a replica judged dead: the retry runs afresh and meets that claim.
    await keys.deleteOne({ key: 'k-stuck', userId: user!.id }).exec();
    await expectInProgress(event.id, user!, 'k-stuck');
    // No refusal recorded, and the key keeps no outcome: its answer is the stuck claim's, once settled.
    expect(await claims.countDocuments({ userId: user!.id })).toBe(1);
    expect(await keys.findOne({ key: 'k-stuck', userId: user!.id }).lean().exec()).toMatchObject({ state: 'IN_PROGRESS' });
    expect(await keys.countDocuments({ key: 'k-stuck', error: { $exists: true } })).toBe(0);
    // The reconciler settles the stuck claim (INTERRUPTED: nothing was decided) and forgets the key; the retry claims.
    await recover();
    const settled = await claim(t, event.id, user!, 'k-stuck');
    expect(settled.status).toBe(201);
    expect(settled.body.status).toBe('GRANTED');
    expect(await remainingOf(t, event.id, user!)).toEqual([2, 2]);
    await expectConsistent();
  });

  it('a key whose claim the reconciler rejected as INTERRUPTED, taken over by a retry before the key was forgotten: a new claim, not that rejection', async () => {
    const event = await twoLimitedRewards(3);
    const [user] = await eligibleUsers(t, operator, 1);
    crashAt('intent-inserted');
    expect((await claim(t, event.id, user!, 'k-interrupted')).status).toBe(500);
    vi.restoreAllMocks();
    // The reconciler settles the stuck claim (nothing was decided) and has not come to the key yet.
    await reconciler.reconcile({ staleAfterMs: 0, keyStaleAfterMs: 3_600_000 });
    expect(await claims.findOne({ userId: user!.id }).lean().exec()).toMatchObject({ status: 'REJECTED', reason: 'INTERRUPTED' });
    expect(await keys.findOne({ key: 'k-interrupted', userId: user!.id }).lean().exec()).toMatchObject({ state: 'IN_PROGRESS' });
    // The client is to retry an interrupted claim: its retry takes the abandoned key over and claims afresh.
    const retried = await claim(t, event.id, user!, 'k-interrupted');
    expect(retried.status).toBe(201);
    expect(retried.body.status).toBe('GRANTED');
    expect(await claims.countDocuments({ userId: user!.id })).toBe(2);
    expect((await claim(t, event.id, user!, 'k-interrupted')).body).toEqual(retried.body);
    expect(await remainingOf(t, event.id, user!)).toEqual([2, 2]);
    await expectConsistent();
  });

  it('one limited reward: a retry with the key of a request that died right after its insert gets that grant at once', async () => {
    const event = await createClaimableEvent(t, operator, {
      rewards: [{ type: 'COUPON', name: 'C', quantity: 1, stock: 2, couponCode: 'C' }],
    });
    const [user] = await eligibleUsers(t, operator, 1);
    crashAt('claim-finished');
    expect((await claim(t, event.id, user!, 'k-born')).status).toBe(500);
    vi.restoreAllMocks();
    // No reconciler pass: the claim the insert recorded is the answer.
    const retried = await claim(t, event.id, user!, 'k-born');
    expect(retried.status).toBe(201);
    expect(retried.body.status).toBe('GRANTED');
    expect(await keys.countDocuments({ key: 'k-born', state: 'IN_PROGRESS' })).toBe(0);
    const again = await claim(t, event.id, user!, 'k-born');
    expect(again.body).toEqual(retried.body);
    expect(await remainingOf(t, event.id, user!)).toEqual([1]);
    await expectConsistent();
  });

  it('a claim in flight is shown by what its decision made of it, never as PROCESSING', async () => {
    const event = await twoLimitedRewards(3);
    const [user] = await eligibleUsers(t, operator, 1);
    crashAt('decision-inserted');
    await claim(t, event.id, user!);
    vi.restoreAllMocks();
    const mine = await t.request<{ items: Array<{ status: string }> }>('GET', '/claims/me', { token: user!.token });
    expect(mine.body.items.map((item) => item.status)).toEqual(['GRANTED']);
    await recover();
  });
  it('finds unapplied decisions by their applyPending mark, and every UNMARKED_DECISIONS_EVERY_MS those without it too (an earlier version wrote them)', async () => {
    const decisions = t.app.get<Model<ClaimDecisionEntity>>(getModelToken(ClaimDecisionEntity.name));
    const repository = new ClaimDecisionRepository(decisions);
    const seen = new Set<string>();
    /** A reviewer's approval of a PENDING claim, written but not applied: marked by this version, or not. */
    const approval = async (marked: boolean): Promise<{ claimId: string }> => {
      const { id } = await pendingClaim(2);
      seen.add(id);
      const decision = {
        claimId: id,
        fromStatus: 'PENDING' as const,
        toStatus: 'GRANTED' as const,
        decidedBy: 'reviewer',
        at: new Date(Date.now() - 60_000),
      };
      if (marked) await repository.tryInsert(decision);
      else await decisions.collection.insertOne(decision);
      return { claimId: id };
    };
    const found = async (unmarkedToo: boolean) =>
      (await repository.findUnappliedBefore(new Date(), 500, { unmarkedToo })).map((d) => d.claimId).filter((id) => seen.has(id));
    // Read from the store: with the clock moved on, the players' tokens would have expired.
    const statusOf = async ({ claimId }: { claimId: string }) => (await claims.findById(claimId).lean().exec())?.status;

    const marked = await approval(true);
    const legacy = await approval(false);
    expect(await decisions.countDocuments({ claimId: marked.claimId, applyPending: true })).toBe(1);
    expect(await found(false)).toEqual([marked.claimId]);
    expect((await found(true)).sort()).toEqual([marked.claimId, legacy.claimId].sort());

    // The reconciler's schedule: a pass later than any search so far looks for both and applies both...
    const start = Date.now() + 2 * UNMARKED_DECISIONS_EVERY_MS;
    vi.spyOn(Date, 'now').mockReturnValue(start);
    await reconciler.reconcile({ staleAfterMs: 0, keyStaleAfterMs: 0 });
    expect(await statusOf(marked)).toBe('GRANTED');
    expect(await statusOf(legacy)).toBe('GRANTED');
    expect(await decisions.countDocuments({ claimId: marked.claimId, applyPending: { $exists: true } })).toBe(0);
    // ...then only marked ones until UNMARKED_DECISIONS_EVERY_MS has passed.
    vi.restoreAllMocks();
    const [laterMarked, laterLegacy] = [await approval(true), await approval(false)];
    vi.spyOn(Date, 'now').mockReturnValue(start + UNMARKED_DECISIONS_EVERY_MS - 1);
    await reconciler.reconcile({ staleAfterMs: 0, keyStaleAfterMs: 0 });
    expect(await statusOf(laterMarked)).toBe('GRANTED');
    expect(await statusOf(laterLegacy)).toBe('PENDING');
    vi.spyOn(Date, 'now').mockReturnValue(start + UNMARKED_DECISIONS_EVERY_MS);
    await reconciler.reconcile({ staleAfterMs: 0, keyStaleAfterMs: 0 });
    expect(await statusOf(laterLegacy)).toBe('GRANTED');
    vi.restoreAllMocks();
    await expectConsistent();
  });

  it('deletes the keys past their retention, at most once every IDEMPOTENCY_SWEEP_EVERY_MS', async () => {
    const user = 'retention-user';
    const expired = (key: string) => ({
      userId: user,
      key,
      requestHash: 'h',
      state: 'DONE',
      result: {},
      createdAt: new Date(Date.now() - IDEMPOTENCY_RETENTION_MS - 60_000),
    });
    const left = () => keys.countDocuments({ userId: user });
    // Later than any sweep so far in this file (the pass at start, and those of passes on a clock moved on).
    const start = Date.now() + 10 * IDEMPOTENCY_SWEEP_EVERY_MS;
    await keys.collection.insertOne(expired('first'));
    const now = vi.spyOn(Date, 'now').mockReturnValue(start);
    await reconciler.reconcile({ staleAfterMs: 0, keyStaleAfterMs: 0 });
    expect(await left()).toBe(0);
    now.mockRestore();
    await keys.collection.insertOne(expired('second'));
    vi.spyOn(Date, 'now').mockReturnValue(start + IDEMPOTENCY_SWEEP_EVERY_MS - 1);
    await reconciler.reconcile({ staleAfterMs: 0, keyStaleAfterMs: 0 });
    expect(await left()).toBe(1);
    vi.spyOn(Date, 'now').mockReturnValue(start + IDEMPOTENCY_SWEEP_EVERY_MS);
    await reconciler.reconcile({ staleAfterMs: 0, keyStaleAfterMs: 0 });
    expect(await left()).toBe(0);
  });
});
