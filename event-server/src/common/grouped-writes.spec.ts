import { describe, expect, it } from 'vitest';
import { mongo } from 'mongoose';
import { isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import { isStoreUnavailable } from '@reward/server-kit/store-unavailable';
import { GroupedWrites, groupedInserts, withKeyPattern } from './grouped-writes.js';

/** A write that ends when the test says so, recording what each write carried. */
function heldWrites() {
  const writes: number[][] = [];
  const ends: Array<(error?: Error) => void> = [];
  const write = (items: number[]) =>
    new Promise<void>((resolve, reject) => {
      writes.push(items);
      ends.push((error) => (error ? reject(error) : resolve()));
    });
  return { writes, ends, write };
}

describe('GroupedWrites', () => {
  it('writes an item given alone at once, and the items given while a write is under way together in the next', async () => {
    const { writes, ends, write } = heldWrites();
    const grouped = new GroupedWrites<number>(write);
    const first = grouped.add(1);
    expect(writes).toEqual([[1]]);
    const rest = [grouped.add(2), grouped.add(3), grouped.add(4)];
    expect(writes).toEqual([[1]]);
    ends[0]!();
    await first;
    await Promise.resolve();
    expect(writes).toEqual([[1], [2, 3, 4]]);
    ends[1]!();
    await Promise.all(rest);
    // Idle again: the next item goes at once, alone.
    const later = grouped.add(5);
    expect(writes).toEqual([[1], [2, 3, 4], [5]]);
    ends[2]!();
    await later;
  });

  it('carries at most its bound per write', async () => {
    const { writes, ends, write } = heldWrites();
    const grouped = new GroupedWrites<number>(write, 2);
    const all = [1, 2, 3, 4, 5, 6].map((item) => grouped.add(item));
    for (let i = 0; i < 4; i++) {
      await Promise.resolve();
      ends[i]!();
      await all[[0, 2, 4, 5][i]!];
    }
    expect(writes).toEqual([[1], [2, 3], [4, 5], [6]]);
    await Promise.all(all);
  });

  it('fails the callers of a failed write only, and goes on with the next', async () => {
    const { writes, ends, write } = heldWrites();
    const grouped = new GroupedWrites<number>(write);
    const first = grouped.add(1);
    const second = grouped.add(2);
    const third = grouped.add(3);
    ends[0]!(new Error('store away'));
    await expect(first).rejects.toThrow('store away');
    await Promise.resolve();
    expect(writes).toEqual([[1], [2, 3]]);
    ends[1]!();
    await expect(Promise.all([second, third])).resolves.toEqual([undefined, undefined]);
  });
});

describe('GroupedWrites with two lanes', () => {
  it('writes a second item at once while the first write hangs, and groups the items given while both are under way', async () => {
    const { writes, ends, write } = heldWrites();
    const grouped = new GroupedWrites<number>(write, 256, 2);
    const first = grouped.add(1);
    const second = grouped.add(2);
    expect(writes).toEqual([[1], [2]]);
    const rest = [grouped.add(3), grouped.add(4)];
    expect(writes).toEqual([[1], [2]]);
    // The first write hangs; the second lane ends and carries the rest.
    ends[1]!();
    await second;
    await Promise.resolve();
    expect(writes).toEqual([[1], [2], [3, 4]]);
    ends[2]!();
    await Promise.all(rest);
    ends[0]!();
    await first;
  });
});

describe('withKeyPattern', () => {
  it.each([
    ['slotKey_1', { slotKey: 1 }],
    ['userId_1_key_1', { userId: 1, key: 1 }],
    ['_id_', { _id: 1 }],
    ['createdAt_-1__id_-1', { createdAt: -1, _id: -1 }],
  ])("names MongoDB's index %s by its key, as insertOne's error does", (name, keyPattern) => {
    const entry = {
      index: 3,
      code: 11000,
      errmsg: `E11000 duplicate key error collection: db.claims index: ${name} dup key: { x: "y" }`,
    };
    expect(withKeyPattern(entry)).toEqual({ ...entry, keyPattern });
  });

  it.each([
    ['FerretDB names no index', { index: 0, code: 11000, errmsg: 'E11000 duplicate key error collection: db.claims' }],
    [
      'a name given by hand',
      { index: 0, code: 11000, errmsg: 'E11000 duplicate key error collection: db.c index: bySlot dup key: {}' },
    ],
    ['not a duplicate', { index: 0, code: 121, errmsg: 'Document failed validation index: a_1 dup key' }],
  ])('leaves the entry as it is: %s', (_label, entry) => {
    expect(withKeyPattern(entry)).toBe(entry);
  });
});

describe('GroupedWrites, item by item', () => {
  it('fails only the callers of the items a write refused', async () => {
    const refused = new Error('refused: 2');
    const grouped = new GroupedWrites<number>(async (items) => items.map((item) => (item === 2 ? refused : undefined)));
    const outcomes = await Promise.allSettled([1, 2, 3].map((item) => grouped.add(item)));
    expect(outcomes).toEqual([
      { status: 'fulfilled', value: undefined },
      { status: 'rejected', reason: refused },
      { status: 'fulfilled', value: undefined },
    ]);
  });
});

/**
 * A collection whose inserts record what they were given and answer as `answer` says: insertMany as a bulk
 * write, insertOne as the driver's single insert (`answer` sees the one document).
 */
function collectionAnswering(answer: (docs: object[]) => void) {
  const calls: Array<{ docs: object[]; options: unknown; one?: true }> = [];
  const collection = {
    insertMany: async (docs: object[], options: unknown) => {
      calls.push({ docs, options });
      answer(docs);
      return { insertedCount: docs.length };
    },
    insertOne: async (doc: object, options: unknown) => {
      calls.push({ docs: [doc], options, one: true });
      answer([doc]);
      return { insertedId: undefined };
    },
  };
  return { calls, collection: collection as unknown as mongo.Collection<{ k: string }> };
}

/**
 * The MongoBulkWriteError the driver throws for an unordered insert some of whose documents were refused, as
 * its bulk write builds it (mongodb lib/bulk/common.js mergeBatchResults): of each server entry it keeps only
 * index, code, errmsg, errInfo and the document (`op`); MongoDB's keyPattern and keyValue are not kept.
 */
function bulkRefusal(entries: Array<{ index: number; code: number; errmsg: string }>): Error {
  const writeErrors = entries.map((entry) => ({
    err: { ...entry, errInfo: undefined, op: {} },
    code: entry.code,
    index: entry.index,
  }));
  return new mongo.MongoBulkWriteError(
    { message: entries[0]!.errmsg, code: entries[0]!.code, writeErrors } as never,
    {} as never,
  );
}

describe('groupedInserts', () => {
  it('sends one unordered insert for the documents given while one was under way', async () => {
    const { calls, collection } = collectionAnswering(() => undefined);
    const inserts = groupedInserts(collection, 1);
    const all = ['a', 'b', 'c'].map((k) => inserts.add({ k }));
    await Promise.all(all);
    expect(calls.map((call) => call.docs)).toEqual([[{ k: 'a' }], [{ k: 'b' }, { k: 'c' }]]);
    expect((calls[1]!.options as { ordered?: boolean }).ordered).toBe(false);
  });

  it("sends a document given alone by insertOne, whose caller gets insertOne's own error (keyPattern and all)", async () => {
    const refusal = new mongo.MongoServerError({
      code: 11000,
      errmsg: 'E11000 duplicate key',
      keyPattern: { slotKey: 1 },
      keyValue: { slotKey: 'x' },
    });
    const { calls, collection } = collectionAnswering(() => {
      throw refusal;
    });
    const inserts = groupedInserts(collection, 1);
    await expect(inserts.add({ k: 'alone' })).rejects.toBe(refusal);
    expect(calls).toEqual([{ docs: [{ k: 'alone' }], options: undefined, one: true }]);
  });

  it("gives each refused document of a group its own error (a MongoServerError with its code and message), and stores the others'", async () => {
    const { collection } = collectionAnswering((docs) => {
      if (docs.length < 3) return;
      throw bulkRefusal([{ index: 1, code: 11000, errmsg: 'E11000 duplicate key' }]);
    });
    const inserts = groupedInserts(collection, 1);
    const first = inserts.add({ k: 'first' });
    const outcomes = Promise.allSettled(['a', 'b', 'c'].map((k) => inserts.add({ k })));
    await first;
    const [a, b, c] = await outcomes;
    expect(a).toEqual({ status: 'fulfilled', value: undefined });
    expect(c).toEqual({ status: 'fulfilled', value: undefined });
    expect(b!.status).toBe('rejected');
    const error = (b as PromiseRejectedResult).reason as mongo.MongoServerError;
    expect(error).toBeInstanceOf(mongo.MongoServerError);
    expect(error.name).toBe('MongoServerError');
    expect(isDuplicateKeyError(error)).toBe(true);
    expect(error.message).toBe('E11000 duplicate key');
  });

  it.each([
    ['a network error', () => new mongo.MongoNetworkError('connect ECONNREFUSED 127.0.0.1:27017')],
    ['no server to select', () => new mongo.MongoServerSelectionError('Server selection timed out after 30000 ms', {} as never)],
  ])(
    "fails a group's callers with the driver error that its bulk write wrapped (%s), as insertOne throws it",
    async (_label, make) => {
      const cause = make();
      const { collection } = collectionAnswering((docs) => {
        if (docs.length > 1) throw new mongo.MongoBulkWriteError(cause, {} as never);
      });
      const inserts = groupedInserts(collection, 1);
      const first = inserts.add({ k: 'first' });
      const outcomes = Promise.allSettled(['a', 'b'].map((k) => inserts.add({ k })));
      await first;
      expect(await outcomes).toEqual([
        { status: 'rejected', reason: cause },
        { status: 'rejected', reason: cause },
      ]);
      // The wrapper would not have said so: the request would be answered 500, not 503 with Retry-After.
      expect(isStoreUnavailable(cause)).toBe(true);
    },
  );

  it.each([
    ['a network error', () => Object.assign(new Error('connection closed'), { name: 'MongoNetworkError' })],
    [
      'a write concern error',
      () =>
        Object.assign(new Error('wc'), {
          writeErrors: [],
          writeConcernErrors: [{ code: 64, errmsg: 'waiting for replication timed out' }],
        }),
    ],
    ['write errors without an index', () => Object.assign(new Error('odd'), { writeErrors: [{ err: { code: 11000 } }] })],
  ])('fails every caller of a command that failed as a whole (%s) with its error', async (_label, make) => {
    const failure = make();
    const { collection } = collectionAnswering(() => {
      throw failure;
    });
    const inserts = groupedInserts(collection, 1);
    const outcomes = await Promise.allSettled(['a', 'b'].map((k) => inserts.add({ k })));
    expect(outcomes).toEqual([
      { status: 'rejected', reason: failure },
      { status: 'rejected', reason: failure },
    ]);
  });
});
