import { describe, expect, it } from 'vitest';
import { AdmissionGate, ShedError } from './claim-admission.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe('AdmissionGate', () => {
  it('runs at most maxInFlight at once, queues up to maxQueued, sheds the rest at once without running them', async () => {
    const gate = new AdmissionGate({ maxInFlight: 2, maxQueued: 1, queueTimeoutMs: 60_000 });
    const release = deferred();
    let started = 0;
    const work = async (): Promise<string> => {
      started++;
      await release.promise;
      return 'done';
    };
    const runs = Array.from({ length: 5 }, () => gate.run(work));
    const settled = Promise.allSettled(runs);
    await Promise.resolve();
    expect(started).toBe(2);
    expect(gate.load).toEqual({ inFlight: 2, queued: 1 });
    release.resolve();
    const results = await settled;
    expect(results.map((result) => (result.status === 'fulfilled' ? result.value : (result.reason as ShedError).why))).toEqual([
      'done',
      'done',
      'done',
      'QUEUE_FULL',
      'QUEUE_FULL',
    ]);
    expect(started).toBe(3);
    expect(gate.load).toEqual({ inFlight: 0, queued: 0 });
  });

  it('a queued claim that waits its whole time is shed and never runs; the slot is not lost', async () => {
    const gate = new AdmissionGate({ maxInFlight: 1, maxQueued: 5, queueTimeoutMs: 1 });
    const release = deferred();
    const first = gate.run(() => release.promise);
    let ranLate = false;
    await expect(gate.run(async () => void (ranLate = true))).rejects.toBeInstanceOf(ShedError);
    expect(ranLate).toBe(false);
    release.resolve();
    await first;
    await expect(gate.run(() => Promise.resolve('next'))).resolves.toBe('next');
    expect(gate.load).toEqual({ inFlight: 0, queued: 0 });
  });

  it('a failing claim frees its slot too', async () => {
    const gate = new AdmissionGate({ maxInFlight: 1, maxQueued: 0, queueTimeoutMs: 0 });
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.run(() => Promise.resolve(1))).resolves.toBe(1);
  });
});

describe('AdmissionGate and time already spent', () => {
  it('sheds a request that already waited the whole time limit before it arrived, and shortens the wait of one that waited part of it', async () => {
    const gate = new AdmissionGate({ maxInFlight: 1, maxQueued: 5, queueTimeoutMs: 50 });
    let ran = false;
    await expect(gate.run(async () => void (ran = true), 51)).rejects.toMatchObject({ why: 'QUEUE_TIMEOUT' });
    expect(ran).toBe(false);
    await expect(gate.run(() => Promise.resolve('fresh'), 10)).resolves.toBe('fresh');
  });
});
