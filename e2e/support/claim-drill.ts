import type { Db } from 'mongodb';
import { expect, vi } from 'vitest';
import { createClaimableEvent, makeEligible } from '../../test-support/claimable-event.js';
import { type Client, type Reply, signUp } from './client.js';

export interface Claim {
  id: string;
  status: string;
  userId: string;
  reason?: string;
  code?: string;
}
export type Player = Awaited<ReturnType<typeof signUp>>;

const BLOCKING = new Set(['GRANTED', 'PENDING']);

export interface DrillOptions {
  /** Names the event, its activity and its rewards ("Crash" → "Crash coupon", CRASH_DRILL). */
  label: string;
  players: number;
  /** Fewer coupons than players, so that every coupon is granted once everybody has tried. */
  coupons: number;
  gems: number;
  /** Gems per claim. */
  gemQuantity: number;
}

/**
 * A claim burst through the gateway against a crash (a killed event server or replica), and the invariants
 * that must hold once the reconciler has settled what the crash left: an AUTO event with two limited rewards
 * (a claim takes a unit of each or none, so a leak in either shows in the counts) and eligible players.
 */
export class ClaimDrill {
  private constructor(
    private readonly api: Client,
    private readonly operator: string,
    private readonly store: Db,
    private readonly options: DrillOptions,
    readonly eventId: string,
    readonly players: Player[],
  ) {}

  static async prepare(api: Client, operator: string, store: Db, options: DrillOptions): Promise<ClaimDrill> {
    const name = options.label;
    const event = await createClaimableEvent(api, operator, {
      title: `${name} drill`,
      activity: `${name.toUpperCase()}_DRILL`,
      rewards: [
        { type: 'COUPON', name: `${name} coupon`, quantity: 1, couponCode: `${name.toUpperCase()}-1`, stock: options.coupons },
        { type: 'ITEM', name: `${name} gem`, quantity: options.gemQuantity, itemCode: 'GEM', stock: options.gems },
      ],
    });
    const players: Player[] = [];
    for (let i = 0; i < options.players; i += 10) {
      players.push(...(await Promise.all(Array.from({ length: Math.min(10, options.players - i) }, () => signUp(api)))));
    }
    await makeEligible(
      api,
      operator,
      event.activity,
      players.map((player) => player.id),
    );
    return new ClaimDrill(api, operator, store, options, event.id, players);
  }

  /** One tap; with `idempotencyKey`, sent with that Idempotency-Key. */
  claim(player: Player, idempotencyKey?: string): Promise<Reply<Claim>> {
    return this.api.request<Claim>('POST', `/events/${this.eventId}/claims`, {
      token: player.tokens.accessToken,
      ...(idempotencyKey !== undefined && { headers: { 'idempotency-key': idempotencyKey } }),
    });
  }

  /**
   * Every player taps `taps` times at once; `onReply` sees each answer as it arrives (to time the crash).
   * `keyOf` gives a tap its Idempotency-Key (undefined: none).
   */
  burst(
    taps: number,
    onReply: (reply: Reply<Claim>) => void,
    keyOf: (playerIndex: number, tap: number) => string | undefined = () => undefined,
  ): Promise<Array<{ player: Player; reply: Reply<Claim>; idempotencyKey: string | undefined }>> {
    return Promise.all(
      this.players.flatMap((player, playerIndex) =>
        Array.from({ length: taps }, async (_, tap) => {
          const idempotencyKey = keyOf(playerIndex, tap);
          const reply = await this.claim(player, idempotencyKey);
          onReply(reply);
          return { player, reply, idempotencyKey };
        }),
      ),
    );
  }

  /** Waits until the reconciler has finished what the crash left: no claim mid-way, no decision unapplied. */
  async settled(): Promise<void> {
    const claims = this.store.collection('claims');
    await vi.waitFor(
      async () => {
        expect(await claims.countDocuments({ eventId: this.eventId, status: 'PROCESSING' })).toBe(0);
        expect(await claims.countDocuments({ eventId: this.eventId, releasePending: true })).toBe(0);
        expect(await this.store.collection('claim_decisions').countDocuments({ appliedAt: { $exists: false } })).toBe(0);
      },
      { timeout: 30_000, interval: 100 },
    );
  }

  /** Every claim of the event, all pages. */
  async allClaims(): Promise<Claim[]> {
    const claims: Claim[] = [];
    for (let page = 1; ; page += 1) {
      const reply = await this.api.get<{ items: Claim[]; total: number }>(
        `/claims?eventId=${this.eventId}&limit=100&page=${page}`,
        this.operator,
      );
      expect(reply.status).toBe(200);
      claims.push(...reply.body.items);
      if (claims.length >= reply.body.total || reply.body.items.length === 0) return claims;
    }
  }

  /**
   * After every player has tried again: no answered grant is lost, nobody holds two blocking claims, and the
   * stock is neither oversold nor leaked (every coupon granted exactly once, the units taken are the grants').
   */
  async expectInvariants(answeredGrantIds: readonly string[]): Promise<void> {
    const { label, coupons, gems } = this.options;
    const claims = await this.allClaims();
    const granted = claims.filter((claim) => claim.status === 'GRANTED');
    const grantedIds = new Set(granted.map((claim) => claim.id));
    for (const id of answeredGrantIds) expect(grantedIds.has(id)).toBe(true);

    const blockingPerPlayer = new Map<string, number>();
    for (const claim of claims.filter((claim) => BLOCKING.has(claim.status))) {
      blockingPerPlayer.set(claim.userId, (blockingPerPlayer.get(claim.userId) ?? 0) + 1);
    }
    expect([...blockingPerPlayer.values()].every((count) => count === 1)).toBe(true);

    expect(claims.filter((claim) => claim.status === 'PENDING')).toHaveLength(0);
    expect(granted).toHaveLength(coupons);
    const rewards = await this.api.get<Array<{ name: string; remaining: number }>>(
      `/events/${this.eventId}/rewards`,
      this.operator,
    );
    expect(rewards.status).toBe(200);
    const remaining = Object.fromEntries(rewards.body.map((reward) => [reward.name, reward.remaining]));
    expect(remaining).toEqual({ [`${label} coupon`]: 0, [`${label} gem`]: gems - coupons });
    // Each grant holds two units: one on the claim itself (the event's first limited reward), one document.
    expect(await this.store.collection('reward_units').countDocuments()).toBe(granted.length);
    const held = await this.store
      .collection('claims')
      .find({ eventId: this.eventId, unitKey: { $exists: true } })
      .toArray();
    expect(held.map((claim) => claim._id.toString()).sort()).toEqual(granted.map((claim) => claim.id).sort());
    expect(new Set(held.map((claim) => claim.unitKey)).size).toBe(granted.length);
  }
}
