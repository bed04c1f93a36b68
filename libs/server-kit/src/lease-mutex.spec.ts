import { describe, expect, it } from 'vitest';
import { type Lease, LeaseMutex, type LeaseStore } from './lease-mutex.js';

/** The store's contract in memory: an insert refused while the key is held, a delete only by its holder. */
class MemoryLeaseStore implements LeaseStore {
  readonly leases = new Map<string, Lease>();

  async tryInsert(key: string, lease: Lease): Promise<boolean> {
    await Promise.resolve();
    if (this.leases.has(key)) return false;
    this.leases.set(key, lease);
    return true;
  }

  async find(key: string): Promise<Lease | undefined> {
    await Promise.resolve();
    return this.leases.get(key);
  }

  async deleteHeld(key: string, holder: string): Promise<void> {
    await Promise.resolve();
    if (this.leases.get(key)?.holder === holder) this.leases.delete(key);
  }
}

const busy = () => new Error('busy');
const late = () => new Error('late');

/** Resolves once `done()` holds, looking again on each turn of the event loop (a state, not a time). */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setImmediate(resolve));
}

describe('LeaseMutex', () => {
  it('runs the works for one key one at a time, in turn, and lets go after each', async () => {
    const store = new MemoryLeaseStore();
    const mutex = new LeaseMutex(store, { leaseMs: 10_000, safetyMs: 1_000, waitMs: 10_000, busy });
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 5 }, (_, index) =>
        mutex.runExclusive('event:1', async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((resolve) => setImmediate(resolve));
          order.push(index);
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(order.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(store.leases.size).toBe(0);
  });

  it('does not make different keys wait for each other', async () => {
    const store = new MemoryLeaseStore();
    const mutex = new LeaseMutex(store, { leaseMs: 10_000, safetyMs: 1_000, waitMs: 10_000, busy });
    let release!: () => void;
    const held = mutex.runExclusive('event:1', () => new Promise<void>((resolve) => (release = resolve)));
    await expect(mutex.runExclusive('event:2', async () => 'other')).resolves.toBe('other');
    release();
    await held;
  });

  it('lets go when the work throws', async () => {
    const store = new MemoryLeaseStore();
    const mutex = new LeaseMutex(store, { leaseMs: 10_000, safetyMs: 1_000, waitMs: 10_000, busy });
    await expect(mutex.runExclusive('event:1', () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    expect(store.leases.size).toBe(0);
  });

  it('takes over a lease a crashed holder left once it has expired, and only then', async () => {
    const store = new MemoryLeaseStore();
    store.leases.set('event:1', { holder: 'crashed', expiresAt: new Date(Date.now() - 1) });
    const mutex = new LeaseMutex(store, { leaseMs: 10_000, safetyMs: 1_000, waitMs: 0, busy });
    await expect(mutex.runExclusive('event:1', async () => 'mine')).resolves.toBe('mine');
    expect(store.leases.size).toBe(0);

    store.leases.set('event:1', { holder: 'alive', expiresAt: new Date(Date.now() + 60_000) });
    await expect(mutex.runExclusive('event:1', async () => 'never')).rejects.toThrow('busy');
    expect(store.leases.get('event:1')?.holder).toBe('alive');
  });

  it('refuses to write once too little is left of the lease', async () => {
    const store = new MemoryLeaseStore();
    // A lease shorter than its safety margin: the holder may already have lost it.
    const mutex = new LeaseMutex(store, { leaseMs: 1, safetyMs: 1_000, waitMs: 0, busy });
    await expect(mutex.runExclusive('event:1', async (lease) => lease.assertHeld())).rejects.toThrow('busy');
    const roomy = new LeaseMutex(store, { leaseMs: 60_000, safetyMs: 1_000, waitMs: 0, busy });
    await expect(roomy.runExclusive('event:2', async (lease) => lease.assertHeld())).resolves.toBeUndefined();
  });

  it('leaves a lease that may have lapsed to expire: a takeover, not its late holder, clears it', async () => {
    const store = new MemoryLeaseStore();
    const mutex = new LeaseMutex(store, { leaseMs: 1, safetyMs: 1_000, waitMs: 0, busy });
    await mutex.runExclusive('event:1', async () => undefined);
    expect(store.leases.has('event:1')).toBe(true);
  });

  it('answers for the work when letting go fails, and says so', async () => {
    const store = new MemoryLeaseStore();
    store.deleteHeld = () => Promise.reject(new Error('store down'));
    const failures: unknown[] = [];
    const mutex = new LeaseMutex(store, {
      leaseMs: 10_000,
      safetyMs: 1_000,
      waitMs: 0,
      busy,
      onReleaseFailed: (error) => failures.push(error),
    });
    await expect(mutex.runExclusive('event:1', async () => 'done')).resolves.toBe('done');
    expect(failures).toHaveLength(1);
  });

  describe('with a start-by time (a request the gateway may stop waiting for)', () => {
    it('waits for a held mutex only until then, runs nothing and takes nothing: late(), not after waitMs', async () => {
      const store = new MemoryLeaseStore();
      const mutex = new LeaseMutex(store, { leaseMs: 60_000, safetyMs: 1_000, waitMs: 60_000, busy, late });
      let release!: () => void;
      const held = mutex.runExclusive('reward:1', () => new Promise<void>((resolve) => (release = resolve)));
      await until(() => store.leases.has('reward:1'));
      const holder = store.leases.get('reward:1')?.holder;
      let ran = false;
      // Without the bound this waits its whole minute (waitMs) and then writes, long after the gateway's 504.
      const waiting = mutex.runExclusive(
        'reward:1',
        async () => {
          ran = true;
        },
        { startBy: Date.now() + 50 },
      );
      await expect(waiting).rejects.toThrow('late');
      expect(ran).toBe(false);
      expect(store.leases.get('reward:1')?.holder).toBe(holder);
      release();
      await held;
      expect(store.leases.size).toBe(0);
    });

    it('does not take the mutex at all once the time has passed', async () => {
      const store = new MemoryLeaseStore();
      const inserts: string[] = [];
      const insert = store.tryInsert.bind(store);
      store.tryInsert = (key, lease) => {
        inserts.push(key);
        return insert(key, lease);
      };
      const mutex = new LeaseMutex(store, { leaseMs: 60_000, safetyMs: 1_000, waitMs: 60_000, busy, late });
      await expect(mutex.runExclusive('event:1', async () => 'never', { startBy: Date.now() - 1 })).rejects.toThrow('late');
      expect(inserts).toEqual([]);
    });

    it('refuses a write begun past it (assertHeld) and lets go; in time, the work runs as before', async () => {
      const store = new MemoryLeaseStore();
      const mutex = new LeaseMutex(store, { leaseMs: 60_000, safetyMs: 1_000, waitMs: 60_000, busy, late });
      const startBy = Date.now() + 20;
      const slowRead = mutex.runExclusive(
        'event:1',
        async (lease) => {
          await until(() => Date.now() > startBy);
          lease.assertHeld();
          return 'written';
        },
        { startBy },
      );
      await expect(slowRead).rejects.toThrow('late');
      expect(store.leases.size).toBe(0);
      const inTime = mutex.runExclusive(
        'event:1',
        async (lease) => {
          lease.assertHeld();
          return 'written';
        },
        { startBy: Date.now() + 60_000 },
      );
      await expect(inTime).resolves.toBe('written');
    });

    it('finishes a change begun in time: only its first write is refused past it, not the next ones', async () => {
      const store = new MemoryLeaseStore();
      const mutex = new LeaseMutex(store, { leaseMs: 60_000, safetyMs: 1_000, waitMs: 60_000, busy, late });
      const startBy = Date.now() + 20;
      const writes: string[] = [];
      const change = mutex.runExclusive(
        'user:1',
        async (lease) => {
          lease.assertHeld();
          writes.push('audit row');
          // The time passes between the change's two writes: cut here, the audit row would name a change never made.
          await until(() => Date.now() > startBy);
          lease.assertHeld();
          writes.push('the change');
          return 'done';
        },
        { startBy },
      );
      await expect(change).resolves.toBe('done');
      expect(writes).toEqual(['audit row', 'the change']);
    });

    it('says busy() when no late() is given', async () => {
      const store = new MemoryLeaseStore();
      const mutex = new LeaseMutex(store, { leaseMs: 60_000, safetyMs: 1_000, waitMs: 60_000, busy });
      await expect(mutex.runExclusive('event:1', async () => 'never', { startBy: Date.now() - 1 })).rejects.toThrow('busy');
    });
  });
});
