import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claim, createClaimableEvent, eligibleUsers, remainingOf } from '../testing/claim-test-kit.js';
import { type EventTestApp, startEventTestApp } from '../testing/event-test-app.js';

/**
 * Two event-server processes on one store, as two replicas behind the gateway: each has its own unit
 * frontier and its own memory of held slots, and only the store's unique indexes are shared.
 */
describe('claims on two replicas sharing one store', () => {
  let a: EventTestApp;
  let b: EventTestApp;

  beforeAll(async () => {
    a = await startEventTestApp('claims_replicas');
    const dbName = a.app.get<Connection>(getConnectionToken()).name;
    // One token issuer for both, as one auth server signs for every replica.
    b = await startEventTestApp('claims_replicas', { EVENT_DB_NAME: dbName, AUTH_JWKS_URL: a.issuer.jwksUrl });
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it.each([
    ['one limited reward (its unit on the claim)', [{ type: 'POINT' as const, name: 'P', quantity: 1, stock: 30 }]],
    [
      'two limited rewards (one on the claim, one as unit documents)',
      [
        { type: 'POINT' as const, name: 'P', quantity: 1, stock: 30 },
        { type: 'ITEM' as const, name: 'I', quantity: 1, stock: 40, itemCode: 'I' },
      ],
    ],
  ])(
    '%s: 60 players tapping on both at once -> exactly the stock granted, one claim each, no unit twice',
    async (_label, rewards) => {
      const operator = a.as('OPERATOR');
      const event = await createClaimableEvent(a, operator, { rewards });
      const players = await eligibleUsers(a, operator, 60);
      const answers = await Promise.all(
        players.flatMap((player) => [claim(a, event.id, player), claim(b, event.id, player), claim(a, event.id, player)]),
      );
      const statuses = answers.map((answer) => `${answer.status} ${String(answer.body.code ?? answer.body.status)}`);
      expect(new Set(statuses)).toEqual(new Set(['201 GRANTED', '409 ALREADY_CLAIMED', '409 OUT_OF_STOCK']));
      const claims = a.app.get<Connection>(getConnectionToken()).collection('claims');
      const granted = await claims.find({ eventId: event.id, status: 'GRANTED' }).toArray();
      expect(granted).toHaveLength(30);
      expect(new Set(granted.map((doc) => doc.userId)).size).toBe(30);
      const unitKeys = granted.map((doc) => String(doc.unitKey));
      expect(new Set(unitKeys).size).toBe(30);
      expect(unitKeys.every((key) => /^[0-9a-f]{24}:([1-9]|[12][0-9]|30)$/.test(key))).toBe(true);
      expect(await claims.countDocuments({ eventId: event.id, unitKey: { $exists: true }, status: { $ne: 'GRANTED' } })).toBe(0);
      const expected = rewards.length === 1 ? [0] : [0, 10];
      expect(await remainingOf(a, event.id, players[0]!)).toEqual(expected);
      expect(await remainingOf(b, event.id, players[0]!)).toEqual(expected);
    },
  );
});
