import { describe, expect, it } from 'vitest';
import { mongo } from 'mongoose';
import { isDuplicateKeyError } from '@reward/server-kit/duplicate-key';
import { GroupedWrites, groupedInserts } from './grouped-writes.js';

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

/** A collection whose insertMany records what it was given and answers as `answer` says. */
function collectionAnswering(answer: (docs: object[]) => void) {
  const calls: Array<{ docs: object[]; options: unknown }> = [];
  const collection = {
    insertMany: async (docs: object[], options: unknown) => {
      calls.push({ docs, options });
      answer(docs);
      return { insertedCount: docs.length };
    },
  };
  return { calls, collection: collection as unknown as mongo.Collection<{ k: string }> };
}

describe('groupedInserts', () => {
  it('sends one unordered insert for the documents given while one was under way', async () => {
    const { calls, collection } = collectionAnswering(() => undefined);
    const inserts = groupedInserts(collection);
    const all = ['a', 'b', 'c'].map((k) => inserts.add({ k }));
    await Promise.all(all);
    expect(calls.map((call) => call.docs)).toEqual([[{ k: 'a' }], [{ k: 'b' }, { k: 'c' }]]);
    expect(calls.every((call) => (call.options as { ordered?: boolean }).ordered === false)).toBe(true);
  });

  it("gives each refused document its own error, as insertOne throws it (code, keyPattern), and stores the others'", async () => {
    const { collection } = collectionAnswering((docs) => {
      if (docs.length < 3) return;
      throw Object.assign(new Error('bulk'), {
        writeErrors: [
          {
            err: {
              index: 1,
              code: 11000,
              errmsg: 'E11000 duplicate key',
              keyPattern: { slotKey: 1 },
              keyValue: { slotKey: 'x' },
            },
          },
        ],
      });
    });
    const inserts = groupedInserts(collection);
    const first = inserts.add({ k: 'first' });
    const outcomes = Promise.allSettled(['a', 'b', 'c'].map((k) => inserts.add({ k })));
    await first;
    const [a, b, c] = await outcomes;
    expect(a).toEqual({ status: 'fulfilled', value: undefined });
    expect(c).toEqual({ status: 'fulfilled', value: undefined });
    expect(b!.status).toBe('rejected');
    const error = (b as PromiseRejectedResult).reason as mongo.MongoServerError;
    expect(error).toBeInstanceOf(mongo.MongoServerError);
    expect(isDuplicateKeyError(error)).toBe(true);
    expect(error.keyPattern).toEqual({ slotKey: 1 });
    expect(error.message).toBe('E11000 duplicate key');
  });

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
    const inserts = groupedInserts(collection);
    const outcomes = await Promise.allSettled(['a', 'b'].map((k) => inserts.add({ k })));
    expect(outcomes).toEqual([
      { status: 'rejected', reason: failure },
      { status: 'rejected', reason: failure },
    ]);
  });
});
