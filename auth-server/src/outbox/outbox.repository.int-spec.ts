import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseName } from '../../../test-support/database.js';
import { openTestDatabase, startTestApp, testConfig } from '../testing/auth-test-app.js';
import { accessVersionNotice, loginActivity } from './outbox-message.js';
import { OutboxRepository } from './outbox.repository.js';

describe('OutboxRepository.lease', () => {
  let app: NestFastifyApplication;
  let outbox: OutboxRepository;
  const dbName = testDatabaseName('outbox_lease');

  beforeAll(async () => {
    // No relay: the test takes the rows itself.
    app = await startTestApp(testConfig(dbName, { OUTBOX_ENABLED: 'false' }));
    outbox = app.get(OutboxRepository);
  });

  afterAll(async () => {
    await app.close();
    const db = await openTestDatabase(dbName);
    await db.dropDatabase();
    await db.close();
  });

  it('takes due access notices first, however many activity rows are due before them, then the oldest of the rest', async () => {
    const start = Date.UTC(2026, 11, 1);
    const at = (minutes: number) => new Date(start + minutes * 60_000);
    const logins: string[] = [];
    for (let minute = 0; minute < 6; minute += 1) {
      const id = outbox.newId();
      logins.push(id);
      await outbox.insert({ id, createdAt: at(minute), ...loginActivity(id, `player-${minute}`, at(minute)) });
    }
    const notice = outbox.newId();
    await outbox.insert({ id: notice, createdAt: at(10), ...accessVersionNotice('operator-1', 2, 'ROLES_CHANGED', at(10)) });
    // Not due yet: not taken, notice or not.
    const later = outbox.newId();
    await outbox.insert({ id: later, createdAt: at(90), ...accessVersionNotice('operator-2', 3, 'ROLES_CHANGED', at(90)) });

    const first = await outbox.lease(at(30), 3, 'take-1', at(31));
    expect(first.map((message) => message.id).sort()).toEqual([notice, logins[0], logins[1]].sort());
    const second = await outbox.lease(at(30), 10, 'take-2', at(31));
    expect(second.map((message) => message.id)).toEqual(logins.slice(2));
  });
});
