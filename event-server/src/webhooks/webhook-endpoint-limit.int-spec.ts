import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EventTestApp, startEventTestApp, startReplicaOf } from '../testing/event-test-app.js';
import { deleteEveryEndpoint } from '../testing/payout-test-kit.js';

// Three endpoints at most here (20 by default); no receiver listens: nothing is granted, so nothing is sent.
const ENV = { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_ENDPOINTS_MAX: '3', PAYOUT_RELAY_INTERVAL_MS: '0' };

describe('webhook endpoints: how many may exist at once (WEBHOOK_ENDPOINTS_MAX)', () => {
  let a: EventTestApp;
  let b: EventTestApp;
  let admin: { id: string; token: string };
  let db: Connection;

  beforeAll(async () => {
    a = await startEventTestApp('webhook_endpoint_limit', ENV);
    b = await startReplicaOf(a, 'webhook_endpoint_limit', ENV);
    admin = a.as('ADMIN');
    db = a.app.get<Connection>(getConnectionToken());
  });

  afterEach(async () => {
    await deleteEveryEndpoint(a, admin);
  });

  afterAll(async () => {
    await db?.dropDatabase();
    await Promise.all([a?.close(), b?.close()]);
  });

  const create = (app: EventTestApp, index: number) =>
    app.request<{ id: string; code?: string; message?: string }>('POST', '/webhook-endpoints', {
      token: admin.token,
      body: { url: `http://127.0.0.1:9/hook-${index}`, events: ['claim.granted'] },
    });
  const endpointCount = () => db.collection('webhook_endpoints').countDocuments();
  const creationEntries = () => db.collection('audit_logs').countDocuments({ action: 'WEBHOOK_ENDPOINT_CREATED' });

  it('refuses one more than the limit 409 WEBHOOK_ENDPOINT_LIMIT, nothing written; a deletion makes room', async () => {
    const created = [];
    for (let index = 0; index < 3; index += 1) {
      const answer = await create(a, index);
      expect(answer.status).toBe(201);
      created.push(answer.body.id);
    }
    const entries = await creationEntries();

    const refused = await create(a, 3);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ statusCode: 409, code: 'WEBHOOK_ENDPOINT_LIMIT' });
    expect(refused.body.message).toMatch(/At most 3 webhook endpoints/);
    expect(await endpointCount()).toBe(3);
    expect(await creationEntries()).toBe(entries);

    expect((await a.request('DELETE', `/webhook-endpoints/${created[0]}`, { token: admin.token, body: {} })).status).toBe(204);
    expect((await create(a, 4)).status).toBe(201);
    expect(await endpointCount()).toBe(3);
  });

  it('admits exactly the limit of creations sent at once to two replicas', async () => {
    const entries = await creationEntries();
    const answers = await Promise.all(Array.from({ length: 8 }, (_, index) => create(index % 2 === 0 ? a : b, index)));
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses.filter((status) => status === 201)).toHaveLength(3);
    // The others: the limit, or (a slow store) the creation lock not had in time, 503 with nothing created.
    expect(statuses.every((status) => status === 201 || status === 409 || status === 503)).toBe(true);
    expect(await endpointCount()).toBe(3);
    expect(await creationEntries()).toBe(entries + 3);
  });
});
