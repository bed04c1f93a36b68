import { type Connection, createConnection, mongo } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import { isStoreUnavailable } from '@reward/server-kit/store-unavailable';
import { testDatabaseName } from '../../../test-support/database.js';
import { type StoreProxy, startStoreProxy } from '../../../test-support/store-proxy.js';
import { groupedInserts } from './grouped-writes.js';

interface Doc {
  _id: string;
  key: string;
}

/**
 * Grouped inserts on the real store: each document is decided by the unique index as a single insert would be
 * (the concurrency rule: every invariant is an insert a unique index can refuse), in fewer commands.
 */
describe('groupedInserts on the store', () => {
  let connection: Connection;
  const inserts: string[] = [];

  beforeAll(async () => {
    connection = await createConnection(inject('mongoUri'), {
      dbName: testDatabaseName('grouped_inserts'),
      monitorCommands: true,
    }).asPromise();
    connection.getClient().on('commandStarted', (event: mongo.CommandStartedEvent) => {
      if (event.commandName === 'insert') inserts.push(String(event.command.insert));
    });
  });

  afterAll(async () => {
    await connection?.dropDatabase();
    await connection?.close();
  });

  async function collection(name: string): Promise<mongo.Collection<Doc>> {
    const created = connection.collection<Doc>(name);
    await created.createIndex({ key: 1 }, { unique: true });
    return created as unknown as mongo.Collection<Doc>;
  }

  it('stores the documents given while an insert was under way with one more command, refusing each duplicate on its own', async () => {
    const docs = await collection('each');
    await docs.insertOne({ _id: 'held', key: 'k0' });
    const grouped = groupedInserts(docs, 1);
    inserts.length = 0;
    const first = grouped.add({ _id: 'd1', key: 'k1' });
    // Given while the first is under way: one command for the five, two of them refused by the unique index
    // (a key stored before, a key given twice in the group) and one by its _id.
    const rest = [
      grouped.add({ _id: 'd2', key: 'k2' }),
      grouped.add({ _id: 'd3', key: 'k0' }),
      grouped.add({ _id: 'd4', key: 'k4' }),
      grouped.add({ _id: 'd5', key: 'k4' }),
      grouped.add({ _id: 'held', key: 'k6' }),
    ];
    await first;
    const outcomes = await Promise.allSettled(rest);
    expect(inserts.filter((name) => name === 'each')).toHaveLength(2);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'rejected']);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') expect(isDuplicateKeyError(outcome.reason), String(outcome.reason)).toBe(true);
    }
    const stored = await docs.find({}, { sort: { _id: 1 } }).toArray();
    expect(stored).toEqual([
      { _id: 'd1', key: 'k1' },
      { _id: 'd2', key: 'k2' },
      { _id: 'd4', key: 'k4' },
      { _id: 'held', key: 'k0' },
    ]);
  });

  it('admits exactly one document per key when two processes insert a crowd of duplicates at once', async () => {
    const docs = await collection('race');
    // Two groupers stand for two replicas, each with its own commands in flight.
    const replicas = [groupedInserts(docs), groupedInserts(docs)];
    const attempts = Array.from({ length: 400 }, (_, index) =>
      replicas[index % 2]!.add({ _id: `a${index}`, key: `k${(index * 7) % 25}` }),
    );
    const outcomes = await Promise.allSettled(attempts);
    const stored = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(stored).toHaveLength(25);
    for (const outcome of refused) expect(isDuplicateKeyError(outcome.reason), String(outcome.reason)).toBe(true);
    expect(await docs.countDocuments()).toBe(25);
    // Each admitted document is the one whose caller was told so.
    const admitted = outcomes.flatMap((outcome, index) => (outcome.status === 'fulfilled' ? [`a${index}`] : []));
    expect((await docs.find().toArray()).map((doc) => doc._id).sort()).toEqual(admitted.sort());
  });
});

/**
 * A store that goes away under grouped inserts: every caller, alone or in a group, gets an error that says the
 * store is unavailable (isStoreUnavailable: a claim answered 503 with Retry-After), as insertOne's did.
 */
describe('groupedInserts while the store is away', () => {
  let proxy: StoreProxy;
  let connection: Connection;

  beforeAll(async () => {
    proxy = await startStoreProxy(inject('mongoUri'));
    connection = await createConnection(proxy.uri, {
      dbName: testDatabaseName('grouped_inserts_away'),
      serverSelectionTimeoutMS: 1_500,
    }).asPromise();
  });

  afterAll(async () => {
    proxy?.restore();
    await connection?.dropDatabase();
    await connection?.close();
    await proxy?.close();
  });

  it('fails each caller with an error that says the store is unavailable, alone or grouped', async () => {
    const docs = connection.collection<Doc>('away') as unknown as mongo.Collection<Doc>;
    await docs.insertOne({ _id: 'warm', key: 'k0' });
    const grouped = groupedInserts(docs, 1);
    proxy.cut();
    for (let round = 0; round < 3; round++) {
      // The first goes alone, the other two together while it is under way.
      const outcomes = await Promise.allSettled(
        [1, 2, 3].map((n) => grouped.add({ _id: `r${round}d${n}`, key: `r${round}k${n}` })),
      );
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        const reason = (outcome as PromiseRejectedResult).reason as Error;
        expect(isStoreUnavailable(reason), `${reason.name}: ${reason.message}`).toBe(true);
      }
    }
  });
});
