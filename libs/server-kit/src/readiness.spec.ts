import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Readiness } from './readiness.js';

/** A store whose pings the test answers, refuses or leaves unanswered, one at a time. */
function scriptedStore() {
  const pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
  return {
    pings: () => pending.length,
    ping: vi.fn(
      (_timeoutMs: number) =>
        new Promise<void>((resolve, reject) => {
          pending.push({ resolve, reject });
        }),
    ),
    answer: () => pending.shift()!.resolve(),
    refuse: () => pending.shift()!.reject(new Error('connection refused')),
  };
}

describe('Readiness', () => {
  let clock = 0;
  beforeEach(() => {
    vi.useFakeTimers();
    clock = 0;
  });
  afterEach(() => vi.useRealTimers());

  const readinessOf = (store: ReturnType<typeof scriptedStore>) =>
    new Readiness({ ping: store.ping, now: () => clock, pingTimeoutMs: 1_000, slowGraceMs: 5_000 });

  it('is ready when the store answers, and gives the ping the grace as its own bound', async () => {
    const store = scriptedStore();
    const check = readinessOf(store).check();
    store.answer();
    await expect(check).resolves.toEqual({ ready: true, slow: false });
    expect(store.ping).toHaveBeenCalledWith(5_000);
  });

  it('is not ready at once when the store refuses, even right after an answer', async () => {
    const store = scriptedStore();
    const readiness = readinessOf(store);
    const first = readiness.check();
    store.answer();
    await first;
    const second = readiness.check();
    store.refuse();
    await expect(second).resolves.toEqual({ ready: false, reason: 'refused' });
  });

  it('stays ready while only slow, for the grace after the last answered ping was sent, then is not', async () => {
    const store = scriptedStore();
    const readiness = readinessOf(store);
    const first = readiness.check();
    store.answer();
    await first;

    clock = 4_000;
    const slow = readiness.check();
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(slow).resolves.toEqual({ ready: true, slow: true });

    clock = 5_001;
    const silent = readiness.check();
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(silent).resolves.toEqual({ ready: false, reason: 'silent' });
    // Both checks waited for the one ping under way rather than sending another.
    expect(store.pings()).toBe(1);
  });

  it('counts an answer from when its ping was sent, not when it came', async () => {
    const store = scriptedStore();
    const readiness = readinessOf(store);
    clock = 0;
    const check = readiness.check();
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(check).resolves.toEqual({ ready: false, reason: 'silent' });
    // The store answers that ping 30 s after it was sent: not an answer "just now".
    clock = 30_000;
    store.answer();
    await vi.advanceTimersByTimeAsync(0);
    const next = readiness.check();
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(next).resolves.toEqual({ ready: false, reason: 'silent' });
  });

  it('is not ready when the store never answered, however early', async () => {
    const store = scriptedStore();
    const check = readinessOf(store).check();
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(check).resolves.toEqual({ ready: false, reason: 'silent' });
  });
});
