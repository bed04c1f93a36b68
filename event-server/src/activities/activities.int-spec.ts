import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventTestApp, newId, startEventTestApp } from '../testing/event-test-app.js';

interface ImportReply {
  received: number;
  inserted: number;
  duplicates: number;
  conflicts?: Array<{ index: number; externalId: string }>;
}

describe('activities', () => {
  let t: EventTestApp;
  let operator: { id: string; token: string };

  beforeAll(async () => {
    t = await startEventTestApp('activities');
    operator = t.as('OPERATOR');
  });

  afterAll(async () => {
    await t?.close();
  });

  const countFor = async (userId: string): Promise<number> =>
    (await t.request<{ total: number }>('GET', `/activities?userId=${userId}&limit=1`, { token: operator.token })).body.total;

  it('records one activity, defaulting occurredAt to now', async () => {
    const userId = newId();
    const before = Date.now();
    const reply = await t.request<ImportReply>('POST', '/activities', {
      token: operator.token,
      body: { userId, type: 'BOSS_KILL' },
    });
    expect(reply.status).toBe(201);
    expect(reply.body).toEqual({ received: 1, inserted: 1, duplicates: 0 });
    const listed = await t.request<{ items: Array<{ occurredAt: string; source: string; recordedBy: string }> }>(
      'GET',
      `/activities?userId=${userId}`,
      {
        token: operator.token,
      },
    );
    expect(listed.body.items).toHaveLength(1);
    expect(Date.parse(listed.body.items[0]!.occurredAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(listed.body.items[0]).toMatchObject({ source: 'IMPORT', recordedBy: operator.id });
  });

  it("refuses an import under the platform's own keys (auth:...), which would take the place of a login", async () => {
    const userId = newId();
    const items = [
      { userId, type: 'BOSS_KILL', externalId: 'mine-1' },
      { userId, type: 'BOSS_KILL', externalId: `auth:LOGIN:${userId}:2026-12-03T10:15:00.000Z` },
      { userId, type: 'BOSS_KILL', externalId: 'Auth:FRIEND_INVITE:x' },
    ];
    const reply = await t.request<{ code: string; message: string[] }>('POST', '/activities', {
      token: operator.token,
      body: { items },
    });
    expect(reply.status).toBe(400);
    expect(reply.body.message).toEqual([
      'items[1].externalId must not start with "auth:" (the platform\'s own activities use it)',
      'items[2].externalId must not start with "auth:" (the platform\'s own activities use it)',
    ]);
    expect(await countFor(userId)).toBe(0);
  });

  it('reports an externalId already recorded for another user or type as a conflict, not as a duplicate', async () => {
    const [first, second] = [newId(), newId()];
    const importer = t.as('OPERATOR');
    const known = `game-event-${first}`;
    const recorded = await t.request<ImportReply>('POST', '/activities', {
      token: importer.token,
      body: { userId: first, type: 'BOSS_KILL', externalId: known },
    });
    expect(recorded.body).toEqual({ received: 1, inserted: 1, duplicates: 0 });
    const items = [
      { userId: first, type: 'BOSS_KILL', externalId: known }, // the same activity again
      { userId: second, type: 'BOSS_KILL', externalId: known }, // another user's, under a taken id
      { userId: first, type: 'QUEST_CLEAR', externalId: known, attributes: { questId: 'q1' } }, // another type
      { userId: second, type: 'BOSS_KILL', externalId: `game-event-${second}` }, // new
    ];
    const reply = await t.request<ImportReply>('POST', '/activities', { token: importer.token, body: { items } });
    expect(reply.status).toBe(201);
    expect(reply.body).toEqual({
      received: 4,
      inserted: 1,
      duplicates: 1,
      conflicts: [
        { index: 1, externalId: known },
        { index: 2, externalId: known },
      ],
    });
    expect(await countFor(first)).toBe(1);
    expect(await countFor(second)).toBe(1);
    const trail = await t.request<{ items: Array<{ changes: Record<string, unknown> }> }>(
      'GET',
      `/audit-logs?actorId=${importer.id}&action=ACTIVITIES_IMPORTED&limit=1`,
      { token: t.as('AUDITOR').token },
    );
    expect(trail.body.items[0]!.changes).toMatchObject({ received: 4, inserted: 1, duplicates: 1, conflicts: 2 });
  });

  it('imports a batch once: a repeated batch reports duplicates and records nothing new', async () => {
    const userId = newId();
    const items = Array.from({ length: 50 }, (_, index) => ({
      userId,
      type: 'LOGIN',
      occurredAt: new Date(Date.UTC(2025, 11, 1 + (index % 28), 3)).toISOString(),
      externalId: `sheet-${userId}-${index}`,
    }));
    const first = await t.request<ImportReply>('POST', '/activities', { token: operator.token, body: { items } });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ received: 50, inserted: 50, duplicates: 0 });
    const again = await t.request<ImportReply>('POST', '/activities', { token: operator.token, body: { items } });
    expect(again.status).toBe(201);
    expect(again.body).toEqual({ received: 50, inserted: 0, duplicates: 50 });
    // The repeat is audited too, as recording nothing: an operator's write into what claims are checked against.
    const trail = await t.request<{ items: Array<{ actorId: string; changes: Record<string, unknown> }> }>(
      'GET',
      `/audit-logs?action=ACTIVITIES_IMPORTED&targetId=${encodeURIComponent(`batch:sheet-${userId}-0+49`)}`,
      { token: t.as('AUDITOR').token },
    );
    expect(trail.body.items).toEqual([
      expect.objectContaining({
        actorId: operator.id,
        changes: { received: 50, inserted: 0, duplicates: 50, types: ['LOGIN'], userCount: 1 },
      }),
      expect.objectContaining({
        actorId: operator.id,
        changes: { received: 50, inserted: 50, duplicates: 0, types: ['LOGIN'], userCount: 1 },
      }),
    ]);
    // Two imports of the same batch at once still record each activity once.
    const raced = items.map((item) => ({ ...item, externalId: `${item.externalId}-race` }));
    const both = await Promise.all([
      t.request<ImportReply>('POST', '/activities', { token: operator.token, body: { items: raced } }),
      t.request<ImportReply>('POST', '/activities', { token: operator.token, body: { items: raced } }),
    ]);
    expect(both.map((reply) => reply.status)).toEqual([201, 201]);
    expect(both[0]!.body.inserted + both[1]!.body.inserted).toBe(50);
    expect(await countFor(userId)).toBe(100);
  });

  it('refuses a batch with one bad item, naming its index, and writes nothing', async () => {
    const userId = newId();
    const good = { userId, type: 'LOGIN', occurredAt: '2025-12-01T00:00:00Z' };
    const cases: Array<[unknown, RegExp]> = [
      [
        { items: [good, { ...good, occurredAt: new Date(Date.now() + 86_400_000).toISOString() }] },
        /items\[1\]\.occurredAt must not be in the future/,
      ],
      [{ items: [good, good, { ...good, type: 'QUEST_CLEAR' }] }, /items\[2\]\.attributes\.questId is required/],
      // No QUEST_CLEAR condition can name a quest id over 128 characters: such a clear would never count.
      [
        { items: [good, { ...good, type: 'QUEST_CLEAR', attributes: { questId: 'q'.repeat(129) } }] },
        /items\[1\]\.attributes\.questId must be at most 128 characters/,
      ],
      [{ items: [good, { ...good, type: 'login' }] }, /items\.1\.type must be an upper-case word/],
      [{ items: [good, { ...good, userId: 'bob' }] }, /items\.1\.userId must be a valid user id/],
      [{ items: [{ ...good, extra: true }] }, /items\.0\.extra: property extra should not exist/],
      // An array where an item's object belongs passed the nested validation (whose each-rule takes arrays too).
      [{ items: [good, [good]] }, /each value in items must be an object/],
      [{ items: [[]] }, /each value in items must be an object/],
      // A blank externalId (a spreadsheet's cell of spaces) is no id: as the empty one, not a key shared by every such row.
      [{ items: [good, { ...good, externalId: '   ' }] }, /items\.1\.externalId must not be blank/],
      [{ ...good, externalId: '\u3000' }, /externalId must not be blank/],
      [{ items: Array.from({ length: 1001 }, () => good) }, /items must contain no more than 1000 elements/],
      [{ items: [] }, /items must contain at least 1 elements/],
      [{ ...good, occurredAt: 'last tuesday' }, /occurredAt/],
    ];
    for (const [body, message] of cases) {
      const reply = await t.request('POST', '/activities', { token: operator.token, body });
      expect(reply.status, String(message)).toBe(400);
      expect(reply.body.code).toBe('VALIDATION_FAILED');
      expect(JSON.stringify(reply.body.message), String(message)).toMatch(message);
    }
    expect(await countFor(userId)).toBe(0);
  });

  it('lists the first 100 problems of a batch and counts the rest, whatever their number', async () => {
    const userId = newId();
    // Three unknown fields on each of 1,000 items: 3,000 problems (the answer listed them all, about 130 KB).
    const items = Array.from({ length: 1000 }, (_, index) => ({
      userId,
      type: 'LOGIN',
      externalId: `x-${index}`,
      a: 1,
      b: 2,
      c: 3,
    }));
    const reply = await t.request<{ code: string; message: string[] }>('POST', '/activities', {
      token: operator.token,
      body: { items },
    });
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('VALIDATION_FAILED');
    expect(reply.body.message).toHaveLength(101);
    expect(reply.body.message[0]).toBe('items.0.a: property a should not exist');
    expect(reply.body.message[100]).toBe('...and 2900 more problems (only the first 100 are listed)');
    expect(await countFor(userId)).toBe(0);
  });

  it('refuses a batch of far more than 1,000 items by its length alone, no item looked at', async () => {
    // 99,000 empty objects (300 KB, under the body's value and size bounds): every one was transformed and
    // validated, about 5 s in which this server's event loop answered nothing else (a GET /events waited as long).
    const reply = await t.request<{ code: string; message: string[] }>('POST', '/activities', {
      token: operator.token,
      body: { items: Array.from({ length: 99_000 }, () => ({})) },
    });
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('VALIDATION_FAILED');
    expect(reply.body.message).toEqual(['items must contain no more than 1000 elements']);
    // One item that is a list of 99,000 (ValidateNested goes through a list in an item's place): 3.5 s the same way.
    const nested = await t.request<{ code: string; message: string[] }>('POST', '/activities', {
      token: operator.token,
      body: { items: [Array.from({ length: 99_000 }, () => ({}))] },
    });
    expect(nested.status).toBe(400);
    expect(nested.body.message).toEqual(['items: each value in items must be an object']);
  });

  it('takes a 1,000-item batch of about 45 attribute fields each; one past 100,000 values in all is refused whole', async () => {
    // Each item is about 2 values per field of its attributes plus 8 of its own: 1,000 items of 45 fields are
    // 98,000, of 50 fields 108,000 (still far under the 4,096 bytes of attributes and the 1 MB body).
    const userId = newId();
    const batch = (fields: number, tag: string) => ({
      items: Array.from({ length: 1000 }, (_, index) => ({
        userId,
        type: 'TELEMETRY',
        externalId: `${tag}-${index}`,
        attributes: Object.fromEntries(Array.from({ length: fields }, (_, field) => [`f${field}`, field])),
      })),
    });
    const refused = await t.request<{ code: string }>('POST', '/activities', { token: operator.token, body: batch(50, 'wide') });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('JSON_TOO_MANY_VALUES');
    expect(await countFor(userId)).toBe(0);
    const taken = await t.request<ImportReply>('POST', '/activities', { token: operator.token, body: batch(45, 'narrow') });
    expect(taken.status).toBe(201);
    expect(taken.body).toEqual({ received: 1000, inserted: 1000, duplicates: 0 });
  });

  it('accepts QUEST_CLEAR with a questId and lists with filters', async () => {
    const userId = newId();
    const reply = await t.request<ImportReply>('POST', '/activities', {
      token: operator.token,
      body: { userId, type: 'QUEST_CLEAR', occurredAt: '2025-12-02T00:00:00Z', attributes: { questId: 'Q-17' } },
    });
    expect(reply.status).toBe(201);
    const filtered = await t.request<{ total: number }>(
      'GET',
      `/activities?userId=${userId}&type=QUEST_CLEAR&from=2025-12-01T00:00:00Z&to=2025-12-03T00:00:00Z`,
      {
        token: t.as('AUDITOR').token,
      },
    );
    expect(filtered.status).toBe(200);
    expect(filtered.body.total).toBe(1);
    const reversed = await t.request('GET', '/activities?from=2025-12-03T00:00:00Z&to=2025-12-01T00:00:00Z', {
      token: operator.token,
    });
    expect(reversed.status).toBe(400);
  });

  it('keeps attribute keys named after Object.prototype members exactly as given, at any depth', async () => {
    const userId = newId();
    const attributes =
      '{"toString":"x","questId":"q1","constructor":"c","valueOf":1,"hasOwnProperty":{"isPrototypeOf":true},' +
      '"prototype":"p","list":[{"__defineGetter__":"g","toLocaleString":"l"}],"constructorX":{"constructor":{"a":1}}}';
    const raw = `{"userId":"${userId}","type":"QUEST_CLEAR","occurredAt":"2025-12-02T00:00:00Z","attributes":${attributes}}`;
    const reply = await t.request<ImportReply>('POST', '/activities', { token: operator.token, raw });
    expect(reply.status).toBe(201);
    const listed = await t.request<{ items: Array<{ attributes: unknown }> }>('GET', `/activities?userId=${userId}`, {
      token: operator.token,
    });
    // Compared as JSON text: every key, its value and its place.
    expect(JSON.stringify(listed.body.items.map((item) => item.attributes))).toBe(`[${attributes}]`);
  });

  it('checks the kept keys like any other: too big, not finite, or a $ key under toString is a 400, nothing stored', async () => {
    const userId = newId();
    for (const attributes of [
      `{"toString":"${'x'.repeat(5000)}"}`,
      '{"valueOf":1e309}',
      '{"hasOwnProperty":{"$where":"1"}}',
      '{"constructor":{"a.b":1}}',
    ]) {
      const raw = `{"items":[{"userId":"${userId}","type":"LOGIN"},{"userId":"${userId}","type":"LOGIN","attributes":${attributes}}]}`;
      const reply = await t.request('POST', '/activities', { token: operator.token, raw });
      expect(reply.status, attributes.slice(0, 40)).toBe(400);
    }
    expect(await countFor(userId)).toBe(0);
  });

  it('still refuses __proto__ and constructor.prototype inside attributes, and stores nothing', async () => {
    const userId = newId();
    for (const attributes of ['{"__proto__":{"admin":true}}', '{"a":{"constructor":{"prototype":{"admin":true}}}}']) {
      const raw = `{"userId":"${userId}","type":"LOGIN","attributes":${attributes}}`;
      const reply = await t.request('POST', '/activities', { token: operator.token, raw });
      expect(reply.status, attributes).toBe(400);
    }
    expect(await countFor(userId)).toBe(0);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('refuses a _bsontype key anywhere in attributes with a 400 naming the item and the path, and stores nothing', async () => {
    // The BSON encoder reads _bsontype as the type of the value it must encode and throws: it was a 500.
    const userId = newId();
    const good = { userId, type: 'LOGIN' };
    const cases: Array<[unknown, string]> = [
      [{ ...good, attributes: { _bsontype: 'x' } }, 'attributes must not hold a key named _bsontype (at _bsontype)'],
      [
        { ...good, attributes: { a: { _bsontype: 'ObjectId' } } },
        'attributes must not hold a key named _bsontype (at a._bsontype)',
      ],
      [
        { items: [good, { ...good, attributes: { list: [{ _bsontype: 1 }] } }] },
        'items[1].attributes must not hold a key named _bsontype (at list[0]._bsontype)',
      ],
    ];
    for (const [body, message] of cases) {
      const reply = await t.request('POST', '/activities', { token: operator.token, body });
      expect(reply.status, message).toBe(400);
      expect(reply.body, message).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        code: 'VALIDATION_FAILED',
        message: [message],
      });
    }
    // Under a key kept by the validation pipe (constructor) too.
    const raw = `{"userId":"${userId}","type":"LOGIN","attributes":{"constructor":{"_bsontype":"Date"}}}`;
    const kept = await t.request('POST', '/activities', { token: operator.token, raw });
    expect(kept.status).toBe(400);
    expect(kept.body.message).toEqual(['attributes must not hold a key named _bsontype (at constructor._bsontype)']);
    expect(await countFor(userId)).toBe(0);
  });

  it("refuses activities for the caller's own id (staff who also play), a batch as a whole, and writes nothing", async () => {
    const other = newId();
    const single = await t.request<{ statusCode: number; code: string; message: string }>('POST', '/activities', {
      token: operator.token,
      body: { userId: operator.id.toUpperCase(), type: 'BOSS_KILL' },
    });
    expect(single.status).toBe(403);
    expect(single.body).toMatchObject({ statusCode: 403, code: 'FORBIDDEN' });
    expect(single.body.message).toMatch(/^userId is your own/);
    const batch = await t.request<{ code: string; message: string }>('POST', '/activities', {
      token: operator.token,
      body: {
        items: [
          { userId: other, type: 'BOSS_KILL' },
          { userId: operator.id, type: 'BOSS_KILL' },
        ],
      },
    });
    expect(batch.status).toBe(403);
    expect(batch.body.message).toMatch(/^items\[1\]\.userId is your own/);
    expect(await countFor(other)).toBe(0);
    expect(await countFor(operator.id)).toBe(0);
    // Another operator may record them.
    const colleague = t.as('OPERATOR');
    const recorded = await t.request('POST', '/activities', {
      token: colleague.token,
      body: { userId: operator.id, type: 'BOSS_KILL' },
    });
    expect(recorded.status).toBe(201);
    expect(await countFor(operator.id)).toBe(1);
  });

  it('lets only OPERATOR and ADMIN import, OPERATOR/AUDITOR/ADMIN list, and audits imports', async () => {
    const body = { userId: newId(), type: 'LOGIN' };
    expect((await t.request('POST', '/activities', { token: t.as('USER').token, body })).status).toBe(403);
    expect((await t.request('POST', '/activities', { token: t.as('AUDITOR').token, body })).status).toBe(403);
    expect((await t.request('GET', '/activities', { token: t.as('USER').token })).status).toBe(403);
    const admin = t.as('ADMIN');
    expect((await t.request('POST', '/activities', { token: admin.token, body })).status).toBe(201);
    const trail = await t.request<{ items: Array<{ action: string; changes: Record<string, unknown> }> }>(
      'GET',
      `/audit-logs?actorId=${admin.id}&action=ACTIVITIES_IMPORTED`,
      { token: admin.token },
    );
    expect(trail.body.items).toHaveLength(1);
    expect(trail.body.items[0]!.changes).toMatchObject({ received: 1, inserted: 1, duplicates: 0 });
  });
});
