import { describe, expect, it } from 'vitest';
import { GroupedWrites } from './grouped-writes.js';

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
