import type { ModuleRef } from '@nestjs/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLAIM_QUIET_MS, ClaimLoad, loadClock } from './claim-load.js';

describe('ClaimLoad', () => {
  let inFlight: number;
  let load: ClaimLoad;
  let settled: boolean;
  const track = (promise: Promise<unknown>): void => {
    settled = false;
    void promise.then(() => {
      settled = true;
    });
  };

  beforeEach(() => {
    vi.useFakeTimers();
    inFlight = 0;
    load = new ClaimLoad(undefined as unknown as ModuleRef);
    load.useProbe(() => ({ inFlight, queued: 0 }));
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('counts running and queued claims as busy', () => {
    expect(load.busy()).toBe(false);
    load.useProbe(() => ({ inFlight: 0, queued: 1 }));
    expect(load.busy()).toBe(true);
  });

  it('quiet: at once when no claim runs; while claims run, only once none has run for the quiet time', async () => {
    await expect(load.quiet(loadClock() + 10_000)).resolves.toBe(false);
    inFlight = 1;
    track(load.quiet(loadClock() + 10_000));
    await vi.advanceTimersByTimeAsync(500);
    expect(settled).toBe(false);
    inFlight = 0;
    await vi.advanceTimersByTimeAsync(CLAIM_QUIET_MS - 5);
    expect(settled).toBe(false);
    // A claim in the gap starts the quiet time over.
    inFlight = 1;
    await vi.advanceTimersByTimeAsync(2);
    inFlight = 0;
    await vi.advanceTimersByTimeAsync(CLAIM_QUIET_MS - 5);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(10);
    expect(settled).toBe(true);
  });

  it('quiet from now waits the quiet time even when no claim runs at this instant (it may be a gap between two)', async () => {
    track(load.quiet(loadClock() + 10_000, true));
    await vi.advanceTimersByTimeAsync(CLAIM_QUIET_MS - 5);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(10);
    expect(settled).toBe(true);
  });

  it('quiet ends at its bound under claims that never pause', async () => {
    inFlight = 1;
    track(load.quiet(loadClock() + 1_000));
    await vi.advanceTimersByTimeAsync(990);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(20);
    expect(settled).toBe(true);
  });

  it('a wall clock set back an hour (or moved ahead) does not stretch or cut a wait: its bound is on a monotonic clock', async () => {
    inFlight = 1;
    track(load.quiet(loadClock() + 1_000));
    vi.setSystemTime(Date.now() - 3_600_000);
    await vi.advanceTimersByTimeAsync(990);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(20);
    expect(settled).toBe(true);
    track(load.gap(loadClock() + 1_000));
    vi.setSystemTime(Date.now() + 3_600_000);
    await vi.advanceTimersByTimeAsync(990);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(20);
    expect(settled).toBe(true);
    // No claim has run for the quiet time: a wall clock set back does not make the last claim seem later.
    track(load.quiet(loadClock() + 10_000, true));
    inFlight = 0;
    vi.setSystemTime(Date.now() - 3_600_000);
    await vi.advanceTimersByTimeAsync(CLAIM_QUIET_MS + 5);
    expect(settled).toBe(true);
  });

  it('gap: at the first moment no claim is in flight, or at its bound', async () => {
    inFlight = 1;
    track(load.gap(loadClock() + 1_000));
    await vi.advanceTimersByTimeAsync(100);
    expect(settled).toBe(false);
    inFlight = 0;
    await vi.advanceTimersByTimeAsync(2);
    expect(settled).toBe(true);
    inFlight = 1;
    track(load.gap(loadClock() + 50));
    await vi.advanceTimersByTimeAsync(60);
    expect(settled).toBe(true);
  });
});
