import { getConnectionToken } from '@nestjs/mongoose';
import { type Connection, type Query, mongo } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventTestApp, startEventTestApp } from '../testing/event-test-app.js';
import { LIST_TOO_SLOW_RETRY_AFTER_SECONDS, readListPage } from './list-read.js';

/** The store's time each list command is given here: a value no driver or store default has. */
const READ_MAX_MS = 7_321;

/**
 * A list the store could not answer quickly (FerretDB v1 sorts every matching document in memory: about 8 s for
 * 60,000 activities) went on after the gateway had answered 504: ten GET /activities of one AUDITOR kept the store
 * busy for two minutes and grew its memory by 5 GB. Each list command now carries a time limit the store enforces.
 */
describe('list reads are bounded in store time (LIST_READ_MAX_MS)', () => {
  let t: EventTestApp;
  /** What the server asked of the store through its models: collection, method and the method's options. */
  const sent: Array<{ collection: string; method: string; options: Record<string, unknown> | undefined }> = [];

  beforeAll(async () => {
    // No reconciler or payout relay on a timer: their own finds on claims, landing while a request runs on a slow
    // machine, read as that request's (CI saw ['countDocuments', 'find', 'find'] for GET /claims). Their pass at
    // start still runs (and landed in a request once more on a busy machine): see commandsOf.
    t = await startEventTestApp('list_read', {
      LIST_READ_MAX_MS: String(READ_MAX_MS),
      CLAIM_RECONCILE_INTERVAL_MS: '0',
      PAYOUT_RELAY_INTERVAL_MS: '0',
    });
    // Mongoose's debug hook is told of every collection method its models call, with their arguments.
    t.app.get<Connection>(getConnectionToken()).set('debug', (collection: string, method: string, ...args: unknown[]) => {
      const options = args.find((arg, index) => index > 0 && typeof arg === 'object' && arg !== null);
      sent.push({ collection, method, options: options as Record<string, unknown> | undefined });
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  /**
   * The finds and counts one request made on `collection` with the list's time limit. The server's own work
   * (heartbeats, instance liveness, the sweeps' passes at start) runs meanwhile and sends none with it; a list
   * command sent without it is missing here, so the test still fails for it.
   */
  const commandsOf = async (
    url: string,
    token: string,
    collection: string,
  ): Promise<Array<{ name: string; maxTimeMS: unknown }>> => {
    sent.length = 0;
    const reply = await t.request('GET', url, { token });
    expect(reply.status, url).toBe(200);
    return sent
      .filter(
        (call) =>
          ['find', 'countDocuments'].includes(call.method) &&
          call.collection === collection &&
          call.options?.maxTimeMS === READ_MAX_MS,
      )
      .map((call) => ({ name: call.method, maxTimeMS: call.options?.maxTimeMS }));
  };

  it.each([
    ['/activities?limit=5', 'AUDITOR', 'activities'],
    ['/claims?limit=5', 'AUDITOR', 'claims'],
    ['/claims/me', 'USER', 'claims'],
    ['/audit-logs?limit=5', 'AUDITOR', 'audit_logs'],
    ['/deliveries?limit=5', 'AUDITOR', 'payout_deliveries'],
    ['/events?limit=5', 'USER', 'events'],
    ['/webhook-endpoints?limit=5', 'ADMIN', 'webhook_endpoints'],
  ])('GET %s sends its page and its count, each with maxTimeMS', async (url, role, collection) => {
    const commands = await commandsOf(url, t.as(role).token, collection);
    expect(commands.map((command) => command.name).sort(), url).toEqual(['countDocuments', 'find']);
  });

  it('answers a list the store stopped for its time 503 with Retry-After, not 500', async () => {
    // The store's own answer to a command past its maxTimeMS, as MongoDB and FerretDB send it.
    const expired = new mongo.MongoServerError({
      ok: 0,
      code: 50,
      codeName: 'MaxTimeMSExpired',
      errmsg: 'operation exceeded time limit',
    });
    const query = <T>(result: Promise<T>): Query<T, unknown> => {
      const fake = { maxTimeMS: () => fake, exec: () => result };
      return fake as unknown as Query<T, unknown>;
    };
    await expect(readListPage(query(Promise.reject(expired)), query(Promise.resolve(0)), READ_MAX_MS)).rejects.toMatchObject({
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      details: { retryAfterSeconds: LIST_TOO_SLOW_RETRY_AFTER_SECONDS },
    });
    await expect(readListPage(query(Promise.resolve([])), query(Promise.reject(expired)), READ_MAX_MS)).rejects.toMatchObject({
      status: 503,
    });
    // The message names the list's own filters, or none when it has none.
    await expect(
      readListPage(query(Promise.reject(expired)), query(Promise.resolve(0)), READ_MAX_MS, 'status, activeAt'),
    ).rejects.toMatchObject({ message: expect.stringContaining('narrow it with its filters (status, activeAt)') });
    await expect(readListPage(query(Promise.reject(expired)), query(Promise.resolve(0)), READ_MAX_MS)).rejects.toMatchObject({
      message: expect.not.stringContaining('narrow'),
    });
    // Any other failure is left to the error mapping as it was.
    const other = new Error('boom');
    await expect(readListPage(query(Promise.reject(other)), query(Promise.resolve(0)), READ_MAX_MS)).rejects.toBe(other);
  });
});
