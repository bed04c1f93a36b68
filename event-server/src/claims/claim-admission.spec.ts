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

describe('AdmissionGate Retry-After', () => {
  /** A gate that has finished 10 claims, one every 100 ms (10/s), and now holds one in flight at t = 1000. */
  async function busyGate(random: () => number): Promise<{ gate: AdmissionGate; shedOnce: () => Promise<number> }> {
    let now = 0;
    const gate = new AdmissionGate({
      maxInFlight: 1,
      maxQueued: 0,
      queueTimeoutMs: 60_000,
      maxRetryAfterSeconds: 30,
      now: () => now,
      random,
    });
    for (let i = 0; i < 10; i++) {
      now = i * 100;
      await gate.run(() => Promise.resolve());
    }
    now = 1_000;
    void gate.run(() => new Promise(() => undefined));
    const shedOnce = async (): Promise<number> => {
      const error = await gate.run(() => Promise.resolve()).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ShedError);
      return (error as ShedError).retryAfterSeconds;
    };
    return { gate, shedOnce };
  }

  it('spreads a shed crowd over the time the gate needs to serve it, at the rate it finishes claims', async () => {
    const { shedOnce } = await busyGate(() => 0.999);
    const delays: number[] = [];
    for (let i = 0; i < 40; i++) delays.push(await shedOnce());
    // The first one shed has one claim in front of it: 0.2 s at 10/s, so 1 s. The 40th has 41: up to 5 s.
    expect(delays[0]).toBe(1);
    expect(delays[39]).toBe(5);
    expect(delays).toEqual([...delays].sort((a, b) => a - b));
  });

  it('draws each delay at random from 1 s up to that bound, and never beyond its maximum (30 s here)', async () => {
    const low = await busyGate(() => 0);
    for (let i = 0; i < 500; i++) expect(await low.shedOnce()).toBe(1);
    const high = await busyGate(() => 0.999);
    let last = 0;
    for (let i = 0; i < 500; i++) last = await high.shedOnce();
    expect(last).toBe(30);
  });

  it('says 1 s when it has not finished enough claims to know its rate', async () => {
    const gate = new AdmissionGate({ maxInFlight: 1, maxQueued: 0, queueTimeoutMs: 60_000, random: () => 0.999 });
    void gate.run(() => new Promise(() => undefined));
    await expect(gate.run(() => Promise.resolve())).rejects.toMatchObject({ retryAfterSeconds: 1 });
  });
});
