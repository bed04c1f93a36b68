import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GroupedInserts, type InsertingCollection } from './grouped-inserts.js';

// The store's address, given by the tests' global setup (test-support/global-setup.ts declares it too).
declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
  }
}

describe('GroupedInserts on the store', () => {
  let connection: mongoose.Connection;
  let commands: Array<{ name: string; documents: number }>;

  beforeAll(async () => {
    const uri = inject('mongoUri');
    connection = await mongoose
      .createConnection(`${uri}${uri.includes('?') ? '&' : '?'}monitorCommands=true`, {
        dbName: `t_grouped_${randomBytes(4).toString('hex')}`,
      })
      .asPromise();
    connection.getClient().on('commandStarted', (event) => {
      if (event.commandName !== 'insert') return;
      commands.push({ name: event.commandName, documents: (event.command.documents as unknown[]).length });
    });
  });

  afterAll(async () => {
    await connection?.dropDatabase();
    await connection?.close();
  });

  async function uniqueCollection() {
    const collection = connection.collection(`c_${randomBytes(4).toString('hex')}`);
    await collection.createIndex({ key: 1 }, { unique: true });
    commands = [];
    return collection;
  }

  it('sends a document alone at once, as one insert', async () => {
    const collection = await uniqueCollection();
    const inserts = new GroupedInserts(collection);
    expect(await inserts.insert({ key: 'a' })).toBe(true);
    expect(await inserts.insert({ key: 'a' })).toBe(false);
    expect(commands).toEqual([
      { name: 'insert', documents: 1 },
      { name: 'insert', documents: 1 },
    ]);
  });

  it('sends documents that arrive together in fewer commands, and the unique index still decides each one', async () => {
    const collection = await uniqueCollection();
    const inserts = new GroupedInserts(collection, { maxInFlight: 1, maxBatch: 64 });
    // 200 documents on 40 keys, 5 racing for each key: exactly one of each five is inserted.
    const keys = Array.from({ length: 200 }, (_, index) => `k${index % 40}`);
    const answers = await Promise.all(keys.map((key) => inserts.insert({ key, n: Math.random() })));
    const insertedKeys = keys.filter((_key, index) => answers[index]);
    expect(new Set(insertedKeys).size).toBe(40);
    expect(insertedKeys).toHaveLength(40);
    expect(await collection.countDocuments({})).toBe(40);
    // The first alone, then batches of at most 64 while one command is on its way.
    expect(commands[0]).toEqual({ name: 'insert', documents: 1 });
    expect(commands.length).toBeLessThan(10);
    expect(commands.every((command) => command.documents <= 64)).toBe(true);
    expect(commands.reduce((sum, command) => sum + command.documents, 0)).toBe(200);
  });

  it('two groupers on one collection (two processes) still insert each key once', async () => {
    const collection = await uniqueCollection();
    const [one, two] = [new GroupedInserts(collection), new GroupedInserts(collection)];
    const keys = Array.from({ length: 60 }, (_, index) => `k${index % 20}`);
    const answers = await Promise.all(keys.flatMap((key) => [one.insert({ key }), two.insert({ key })]));
    expect(answers.filter(Boolean)).toHaveLength(20);
    expect(await collection.countDocuments({})).toBe(20);
  });
});

describe('GroupedInserts errors', () => {
  /** A collection whose inserts wait until released, then fail as told. */
  function fakeCollection(failMany: (docs: object[]) => unknown) {
    const calls: object[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const collection: InsertingCollection = {
      async insertOne(doc) {
        calls.push([doc]);
        await gate;
      },
      async insertMany(docs) {
        calls.push(docs);
        await gate;
        const failure = failMany(docs);
        if (failure) throw failure;
      },
    };
    return { collection, calls, release };
  }

  it("a document's own failure in a batch fails that caller only: a duplicate is false, another error rejects", async () => {
    const bulkError = Object.assign(new Error('bulk write failed'), {
      writeErrors: [
        { index: 0, code: 11000, errmsg: 'E11000 duplicate key' },
        { index: 2, code: 2, errmsg: 'bad document' },
      ],
    });
    const { collection, calls, release } = fakeCollection(() => bulkError);
    const inserts = new GroupedInserts(collection, { maxInFlight: 1 });
    const first = inserts.insert({ n: 0 });
    const batch = [1, 2, 3, 4].map((n) =>
      inserts.insert({ n }).then(
        (inserted) => ({ inserted }),
        (error: Error & { code?: number }) => ({ error: error.message, code: error.code }),
      ),
    );
    release();
    expect(await first).toBe(true);
    expect(await Promise.all(batch)).toEqual([
      { inserted: false },
      { inserted: true },
      { error: 'bad document', code: 2 },
      { inserted: true },
    ]);
    expect(calls.map((call) => call.length)).toEqual([1, 4]);
  });

  it('a failure of the whole command (the connection, a write concern) rejects every caller of the batch', async () => {
    for (const failure of [
      new Error('connection reset'),
      Object.assign(new Error('wc'), { writeErrors: [], writeConcernError: { code: 64 } }),
    ]) {
      const { collection, release } = fakeCollection(() => failure);
      const inserts = new GroupedInserts(collection, { maxInFlight: 1 });
      const first = inserts.insert({ n: 0 });
      const batch = [1, 2, 3].map((n) => inserts.insert({ n }).catch((error: Error) => error.message));
      release();
      await first;
      expect(await Promise.all(batch)).toEqual([failure.message, failure.message, failure.message]);
    }
  });
});
