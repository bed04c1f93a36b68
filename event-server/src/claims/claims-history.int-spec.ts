import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import { getModelToken } from '@nestjs/mongoose';
import { type Model, Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Actor, claim, createClaimableEvent, eligibleUsers } from '../testing/claim-test-kit.js';
import { type EventTestApp, newId, startEventTestApp } from '../testing/event-test-app.js';
import { CLAIM_CSV_COLUMNS } from './claim-csv.js';
import { ClaimHistoryService } from './claim-history.service.js';
import { ClaimEntity } from './claim.schema.js';
import { StalledReaderError } from './stalled-reader.js';

interface ClaimItem {
  id: string;
  eventId: string;
  userId: string;
  status: string;
  reason?: string;
  createdAt: string;
}
interface ClaimPage {
  items: ClaimItem[];
  page: number;
  limit: number;
  total: number;
}

/** RFC 4180 reader for checking the export (quoted cells, doubled quotes, CRLF inside quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows;
}

describe('claim history and export', () => {
  let t: EventTestApp;
  let operator: Actor;
  let auditor: Actor;
  let users: Actor[];
  let manual: { id: string };
  let auto: { id: string };
  let ids: Record<string, string>;

  beforeAll(async () => {
    t = await startEventTestApp('claims_history');
    operator = t.as('OPERATOR');
    auditor = t.as('AUDITOR');
    auto = await createClaimableEvent(t, operator);
    manual = await createClaimableEvent(t, operator, { approval: 'MANUAL' });
    users = await eligibleUsers(t, operator, 3);
    const [a, b, c] = users;
    ids = {};
    // In order, so createdAt orders them: a/auto GRANTED, a/manual PENDING, b/auto GRANTED, b/manual REJECTED (review), stranger CONDITION_NOT_MET.
    ids.aAuto = String((await claim(t, auto.id, a!)).body.id);
    ids.aManual = String((await claim(t, manual.id, a!)).body.id);
    ids.bAuto = String((await claim(t, auto.id, b!)).body.id);
    ids.bManual = String((await claim(t, manual.id, b!)).body.id);
    const rejected = await t.request('POST', `/claims/${ids.bManual}/reject`, {
      token: operator.token,
      body: { note: '=HYPERLINK("http://evil","click"), see "ticket" 42\nsecond line' },
    });
    expect(rejected.status).toBe(200);
    ids.cAutoRefused = String((await claim(t, auto.id, t.as('USER'))).body.id);
    ids.cAuto = String((await claim(t, auto.id, c!)).body.id);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('GET /claims/me: own claims, newest first, filtered by event and status, paginated', async () => {
    const [a] = users;
    const mine = await t.request<ClaimPage>('GET', '/claims/me', { token: a!.token });
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ page: 1, limit: 20, total: 2 });
    expect(mine.body.items.map((item) => item.id)).toEqual([ids.aManual, ids.aAuto]);
    const pending = await t.request<ClaimPage>('GET', '/claims/me?status=PENDING', { token: a!.token });
    expect(pending.body.items.map((item) => item.id)).toEqual([ids.aManual]);
    const byEvent = await t.request<ClaimPage>(`GET`, `/claims/me?eventId=${auto.id}`, { token: a!.token });
    expect(byEvent.body.items.map((item) => item.id)).toEqual([ids.aAuto]);
    const page2 = await t.request<ClaimPage>('GET', '/claims/me?limit=1&page=2', { token: a!.token });
    expect(page2.body).toMatchObject({ page: 2, limit: 1, total: 2, items: [{ id: ids.aAuto }] });
    // userId is not a filter here: one's own claims only.
    expect((await t.request('GET', `/claims/me?userId=${users[1]!.id}`, { token: a!.token })).status).toBe(400);
  });

  it('GET /claims: staff see everything, filter by event, status, user and time range', async () => {
    const all = await t.request<ClaimPage>('GET', '/claims?limit=100', { token: auditor.token });
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(6);
    expect(all.body.items.map((item) => item.id)).toEqual([
      ids.cAuto,
      ids.cAutoRefused,
      ids.bManual,
      ids.bAuto,
      ids.aManual,
      ids.aAuto,
    ]);
    const granted = await t.request<ClaimPage>('GET', `/claims?eventId=${auto.id}&status=GRANTED`, { token: operator.token });
    expect(granted.body.items.map((item) => item.id)).toEqual([ids.cAuto, ids.bAuto, ids.aAuto]);
    const ofB = await t.request<ClaimPage>('GET', `/claims?userId=${users[1]!.id}`, { token: operator.token });
    expect(ofB.body.items.map((item) => item.id)).toEqual([ids.bManual, ids.bAuto]);
    const rejected = await t.request<ClaimPage>('GET', '/claims?status=REJECTED', { token: operator.token });
    expect(rejected.body.items.map((item) => item.reason)).toEqual(['CONDITION_NOT_MET', 'REVIEW_REJECTED']);

    const byId = new Map(all.body.items.map((item) => [item.id, item]));
    const from = byId.get(ids.bAuto)!.createdAt;
    const to = byId.get(ids.cAutoRefused)!.createdAt;
    const range = await t.request<ClaimPage>('GET', `/claims?from=${from}&to=${to}`, { token: auditor.token });
    expect(range.body.items.map((item) => item.id)).toEqual([ids.cAutoRefused, ids.bManual, ids.bAuto]);
    const none = await t.request<ClaimPage>('GET', `/claims?eventId=${newId()}`, { token: auditor.token });
    expect(none.body).toEqual({ items: [], page: 1, limit: 20, total: 0 });
  });

  it("GET /claims/{id}: the owner and staff see it; another user's claim and a missing one are the same 404", async () => {
    const [a, b] = users;
    expect((await t.request('GET', `/claims/${ids.aAuto}`, { token: a!.token })).body).toMatchObject({
      id: ids.aAuto,
      status: 'GRANTED',
    });
    for (const staff of [operator, auditor]) {
      expect((await t.request('GET', `/claims/${ids.aAuto}`, { token: staff.token })).status).toBe(200);
    }
    const foreign = await t.request('GET', `/claims/${ids.aAuto}`, { token: b!.token });
    const missing = await t.request('GET', `/claims/${newId()}`, { token: b!.token });
    expect(foreign.status).toBe(404);
    expect(foreign.body.code).toBe('CLAIM_NOT_FOUND');
    expect(missing.status).toBe(404);
    expect(Object.keys(foreign.body).sort()).toEqual(Object.keys(missing.body).sort());
  });

  it('GET /claims/export: CSV with a header, RFC 4180 quoting, formula-safe cells, the same filters', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/claims/export',
      headers: { authorization: `Bearer ${auditor.token}` },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    const rows = parseCsv(response.body);
    expect(rows[0]).toEqual([...CLAIM_CSV_COLUMNS]);
    expect(rows).toHaveLength(7);
    expect(rows.slice(1).map((row) => row[0])).toEqual([
      ids.cAuto,
      ids.cAutoRefused,
      ids.bManual,
      ids.bAuto,
      ids.aManual,
      ids.aAuto,
    ]);
    const rejected = rows.find((row) => row[0] === ids.bManual)!;
    expect(rejected.slice(3, 6)).toEqual([
      'REJECTED',
      'REVIEW_REJECTED',
      `'=HYPERLINK("http://evil","click"), see "ticket" 42\nsecond line`,
    ]);
    expect(rejected[9]).toBe(operator.id);
    expect(JSON.parse(rejected[6]!)).toEqual([expect.objectContaining({ type: 'POINT', name: 'Points', quantity: 100 })]);
    expect(response.body).toContain(`"'=HYPERLINK(""http://evil"",""click""), see ""ticket"" 42\nsecond line"`);

    const filtered = await t.app.inject({
      method: 'GET',
      url: `/claims/export?eventId=${auto.id}&status=GRANTED&userId=${users[0]!.id}`,
      headers: { authorization: `Bearer ${operator.token}` },
    });
    const filteredRows = parseCsv(filtered.body);
    expect(filteredRows.map((row) => row[0])).toEqual(['id', ids.aAuto]);
    const bad = await t.app.inject({
      method: 'GET',
      url: '/claims/export?page=1',
      headers: { authorization: `Bearer ${operator.token}` },
    });
    expect(bad.statusCode).toBe(400);
  });

  it('streams a large export row by row from the cursor', async () => {
    const claims: Model<ClaimEntity> = t.app.get(getModelToken(ClaimEntity.name));
    const eventId = newId();
    const base = Date.parse('2020-01-01T00:00:00Z');
    const docs = Array.from({ length: 1200 }, (_, i) => {
      const id = new Types.ObjectId();
      return {
        _id: id,
        eventId,
        userId: newId(),
        status: 'REJECTED',
        reason: 'CONDITION_NOT_MET',
        note: i % 2 ? '@bulk' : undefined,
        rewards: [],
        slotKey: `own:${id.toString()}`,
        createdAt: new Date(base + i * 1000),
        decidedAt: new Date(base + i * 1000),
      };
    });
    await claims.insertMany(docs);
    const response = await t.app.inject({
      method: 'GET',
      url: `/claims/export?eventId=${eventId}`,
      headers: { authorization: `Bearer ${auditor.token}` },
    });
    const rows = parseCsv(response.body);
    expect(rows).toHaveLength(1201);
    expect(rows[1]![0]).toBe(docs[1199]!._id.toString());
    expect(rows[1200]![0]).toBe(docs[0]!._id.toString());
    expect(rows.filter((row) => row[5] === "'@bulk")).toHaveLength(600);
  });
});

describe('claim exports at once (CLAIM_EXPORTS_AT_ONCE)', () => {
  let t: EventTestApp;
  let auditor: Actor;
  const exportAs = (query = '') =>
    t.app.inject({ method: 'GET', url: `/claims/export${query}`, headers: { authorization: `Bearer ${auditor.token}` } });

  beforeAll(async () => {
    t = await startEventTestApp('claims_export_bound', { CLAIM_EXPORTS_AT_ONCE: '1', CLAIM_EXPORT_STALL_MS: '300' });
    auditor = t.as('AUDITOR');
  });

  afterAll(async () => {
    await t?.close();
  });

  it('turns an export away with 503 EXPORTS_BUSY and Retry-After while the bound is taken, and takes it again once the running one closes', async () => {
    for (const bom of [false, true]) {
      // An export the server has started and nobody has read yet holds the one slot.
      const running = t.app.get(ClaimHistoryService).exportCsv({}, { bom });
      const refused = await exportAs();
      expect(refused.statusCode).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect(JSON.parse(refused.body)).toMatchObject({ statusCode: 503, code: 'EXPORTS_BUSY', retryAfterSeconds: 5 });
      // Destroyed unread, as Fastify destroys the stream of a response whose client went away.
      running.destroy();
      await once(running, 'close');
      const next = await exportAs(bom ? '?bom=true' : '');
      expect(next.statusCode).toBe(200);
      expect(parseCsv(next.body.replace(/^\uFEFF/, ''))[0]).toEqual([...CLAIM_CSV_COLUMNS]);
    }
    // An export read to its end gives its slot back too.
    expect((await exportAs()).statusCode).toBe(200);
  });

  it('gives the place back once its client stops reading with its connection open (CLAIM_EXPORT_STALL_MS)', async () => {
    // A response whose client never reads: its buffer is full after the first bytes.
    const client = new Writable({ highWaterMark: 1, write: () => undefined });
    const running = t.app.get(ClaimHistoryService).exportCsv({}, { response: client });
    const errors: unknown[] = [];
    running.on('error', (error) => errors.push(error));
    running.pipe(client);
    expect((await exportAs()).statusCode).toBe(503);
    // Dropped (not ended): 'close' after its 'error', which events.once would throw.
    await new Promise((closed) => running.once('close', closed));
    expect(errors).toEqual([expect.any(StalledReaderError)]);
    expect(client.destroyed).toBe(true);
    expect((await exportAs()).statusCode).toBe(200);
  });

  it('answers HEAD with the headers alone, making no file and taking no place', async () => {
    const running = t.app.get(ClaimHistoryService).exportCsv({});
    try {
      const head = await t.app.inject({
        method: 'HEAD',
        url: '/claims/export',
        headers: { authorization: `Bearer ${auditor.token}` },
      });
      expect(head.statusCode).toBe(200);
      expect(head.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(head.body).toBe('');
    } finally {
      running.destroy();
      await once(running, 'close');
    }
  });

  it('gives the slot back when the client goes away in the middle of the file', async () => {
    // Enough rows that the file is still being read from the store when the client goes away.
    const claims: Model<ClaimEntity> = t.app.get(getModelToken(ClaimEntity.name));
    const eventId = newId();
    await claims.insertMany(
      Array.from({ length: 3000 }, (_, i) => {
        const id = new Types.ObjectId();
        const at = new Date(Date.parse('2020-01-01T00:00:00Z') + i * 1000);
        const rest = { status: 'REJECTED', reason: 'CONDITION_NOT_MET', rewards: [], createdAt: at, decidedAt: at };
        return { _id: id, eventId, userId: newId(), slotKey: `own:${id.toString()}`, ...rest };
      }),
    );
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.getHttpServer().address() as { port: number };
    const request = httpRequest({
      host: '127.0.0.1',
      port,
      path: '/claims/export',
      headers: { authorization: `Bearer ${auditor.token}` },
    });
    request.end();
    const [response] = (await once(request, 'response')) as [import('node:http').IncomingMessage];
    expect(response.statusCode).toBe(200);
    request.destroy();
    // Until the server has seen the connection close and closed the export, the next one is turned away.
    await vi.waitFor(
      async () => {
        expect((await exportAs()).statusCode).toBe(200);
      },
      { timeout: 25_000, interval: 50 },
    );
  });
});
