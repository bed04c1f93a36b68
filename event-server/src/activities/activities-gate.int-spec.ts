import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { holdNextCall } from '../../../test-support/hold-next-call.js';
import { START_BY_HEADER } from '@reward/server-kit/start-by';
import { type EventTestApp, newId, startEventTestApp } from '../testing/event-test-app.js';
import { ActivitiesService } from './activities.service.js';
import { ActivityRepository } from './activity.repository.js';

/**
 * The activity imports one process makes at once: past the gate and its queue, an operator's import is answered
 * 503 ACTIVITIES_BUSY with Retry-After at once, nothing written, while the auth server's reports go through; a
 * queued import waits no longer than the gateway gave it to be started.
 */
describe('activities: the writes one process makes at once', () => {
  let t: EventTestApp;
  const serviceToken = (): string => t.issuer.token('auth-server', [], { audience: 'reward-platform-internal' });

  beforeAll(async () => {
    // One write at a time; a queue of one that would hold its request for a minute but for its start-by time.
    t = await startEventTestApp('activities_gate', {
      ACTIVITY_MAX_IN_FLIGHT: '1',
      ACTIVITY_MAX_QUEUED: '1',
      ACTIVITY_QUEUE_TIMEOUT_MS: '60000',
    });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    await t?.close();
  });

  const activity = () => ({
    userId: newId(),
    type: 'PVP_WIN',
    occurredAt: '2025-12-02T00:00:00Z',
    externalId: `gate-${newId()}`,
  });
  const load = () => t.app.get(ActivitiesService).load;
  const operator = () => t.as('OPERATOR');

  const post = (path: string, token: string, body: unknown, headers: Record<string, string> = {}) =>
    t.app.inject({
      method: 'POST',
      url: path,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      payload: body as Record<string, unknown>,
    });

  const recorded = async (externalId: string) =>
    (await t.request<{ total: number }>('GET', `/activities?limit=1&userId=${externalId}`, { token: t.as('AUDITOR').token })).body
      .total;

  it("answers imports past the gate 503 ACTIVITIES_BUSY with Retry-After, nothing written (retried, they are); the auth server's reports go through", async () => {
    const importer = operator();
    const [held, queued, shedImport] = [activity(), activity(), activity()];
    const login = { userId: newId(), type: 'LOGIN', occurredAt: '2025-12-02T00:00:00Z', externalId: `auth:login:${newId()}` };
    const hold = holdNextCall(t.app.get(ActivityRepository), 'insertNew');
    const holding = post('/activities', importer.token, held);
    await vi.waitFor(() => expect(hold.reached()).toBe(true), { timeout: 10_000, interval: 5 });
    const waiting = post('/activities', importer.token, queued);
    await vi.waitFor(() => expect(load()).toEqual({ inFlight: 1, queued: 1 }), { timeout: 10_000, interval: 5 });

    const turnedAway = await post('/activities', importer.token, shedImport);
    expect(turnedAway.statusCode).toBe(503);
    expect(turnedAway.json()).toMatchObject({ code: 'ACTIVITIES_BUSY', statusCode: 503 });
    expect(Number(turnedAway.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Answered as soon as its headers are read: its body is not parsed (no INVALID_JSON) and its connection ends.
    const unread = await t.app.inject({
      method: 'POST',
      url: '/activities',
      headers: { authorization: `Bearer ${importer.token}`, 'content-type': 'application/json' },
      payload: '{"not json',
    });
    expect([unread.statusCode, unread.json().code, unread.headers.connection]).toEqual([503, 'ACTIVITIES_BUSY', 'close']);
    expect(await recorded(shedImport.userId)).toBe(0);
    // The auth server's report of a login is let through however full the gate is (its relay sends one at a time).
    const report = await post('/internal/activities', serviceToken(), { items: [login] });
    expect(report.statusCode).toBe(201);
    expect(report.json()).toEqual({ received: 1, inserted: 1, duplicates: 0 });
    expect(load()).toEqual({ inFlight: 1, queued: 1 });

    hold.release();
    expect((await holding).statusCode).toBe(201);
    expect((await waiting).statusCode).toBe(201);
    expect((await post('/activities', importer.token, shedImport)).json()).toEqual({ received: 1, inserted: 1, duplicates: 0 });
    expect(await recorded(shedImport.userId)).toBe(1);
    expect(load()).toEqual({ inFlight: 0, queued: 0 });
  });

  it('sheds a queued import once its start-by time has passed, not after the queue’s own limit', async () => {
    const importer = operator();
    const [held, late] = [activity(), activity()];
    const hold = holdNextCall(t.app.get(ActivityRepository), 'insertNew');
    const holding = post('/activities', importer.token, held);
    await vi.waitFor(() => expect(hold.reached()).toBe(true), { timeout: 10_000, interval: 5 });
    // It may be started for another 3 s: it waits that long in the queue (which would hold it a minute), and is
    // answered while the first write is still held.
    const shed = await post('/activities', importer.token, late, { [START_BY_HEADER]: String(Date.now() + 3_000) });
    expect(shed.statusCode).toBe(503);
    expect(shed.json()).toMatchObject({ code: 'ACTIVITIES_BUSY' });
    expect(load()).toEqual({ inFlight: 1, queued: 0 });
    hold.release();
    expect((await holding).statusCode).toBe(201);
    expect(await recorded(late.userId)).toBe(0);
  });
});
