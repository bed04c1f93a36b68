import { afterEach, describe, expect, it, vi } from 'vitest';
import { AdmissionGate, ShedError } from './admission-gate.js';

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
    const shed = await gate.run(async () => void (ranLate = true)).catch((error: unknown) => error);
    expect(shed).toBeInstanceOf(ShedError);
    // An expected answer, not a fault: no stack trace captured (see withoutStackTrace).
    expect((shed as ShedError).stack).toBe('ShedError: Not admitted: QUEUE_TIMEOUT');
    expect(ranLate).toBe(false);
    release.resolve();
    await first;
    await expect(gate.run(() => Promise.resolve('next'))).resolves.toBe('next');
    expect(gate.load).toEqual({ inFlight: 0, queued: 0 });
  });

  it('runs a claim that must be answered at once, beyond the limit, and gives its slot up rather than passing it on', async () => {
    const gate = new AdmissionGate({ maxInFlight: 1, maxQueued: 1, queueTimeoutMs: 60_000 });
    const first = deferred();
    const running = gate.run(() => first.promise);
    const queued = gate.run(() => Promise.resolve('queued'));
    // Full (one running, one queued): another claim is shed, one that must be answered runs now.
    await expect(gate.run(() => Promise.resolve('shed'))).rejects.toBeInstanceOf(ShedError);
    const urgent = deferred();
    let urgentRan = false;
    const atOnce = gate.run(
      async () => {
        urgentRan = true;
        await urgent.promise;
        return 'answered';
      },
      { atOnce: true },
    );
    await Promise.resolve();
    expect(urgentRan).toBe(true);
    expect(gate.load).toEqual({ inFlight: 2, queued: 1 });
    // It ends first: the queued claim still waits for the one slot of the limit.
    urgent.resolve();
    await expect(atOnce).resolves.toBe('answered');
    expect(gate.load).toEqual({ inFlight: 1, queued: 1 });
    first.resolve();
    await running;
    await expect(queued).resolves.toBe('queued');
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
    await expect(gate.run(async () => void (ran = true), { waitedMs: 51 })).rejects.toMatchObject({ why: 'QUEUE_TIMEOUT' });
    expect(ran).toBe(false);
    await expect(gate.run(() => Promise.resolve('fresh'), { waitedMs: 10 })).resolves.toBe('fresh');
  });

  it('never runs a request past its start-by time: the time gone from it counts as waited', async () => {
    const gate = new AdmissionGate({ maxInFlight: 1, maxQueued: 5, queueTimeoutMs: 60_000 });
    let ran = false;
    await expect(gate.run(async () => void (ran = true), { startWithinMs: -1 })).rejects.toMatchObject({ why: 'QUEUE_TIMEOUT' });
    expect(ran).toBe(false);
    // Plenty of time left: admitted as any other; and the larger of the two waits is the one that counts.
    await expect(gate.run(() => Promise.resolve('in time'), { startWithinMs: 59_000 })).resolves.toBe('in time');
    await expect(gate.run(async () => void (ran = true), { waitedMs: 60_001, startWithinMs: 59_000 })).rejects.toMatchObject({
      why: 'QUEUE_TIMEOUT',
    });
    expect(ran).toBe(false);
  });
});

describe('AdmissionGate Retry-After', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /**
   * A gate whose claims each took 100 ms with one at a time (10/s, the gate full each time), followed by a
   * quiet spell of 10 s, and now one claim in flight: shedOnce() is turned away and says when to come back.
   */
  async function busyGate(
    options: {
      maxQueued?: number;
      queueTimeoutMs?: number;
      maxRetryAfterSeconds?: number;
      firstRetryAfterSeconds?: number;
      /** The random draw: always this one, or the next of these in turn. */
      random?: number | number[];
    } = {},
  ): Promise<{ gate: AdmissionGate; shedOnce: () => Promise<ShedError>; clock: { now: number } }> {
    const clock = { now: 0 };
    const draws = Array.isArray(options.random) ? options.random : [options.random ?? 0];
    let draw = 0;
    const gate = new AdmissionGate({
      maxInFlight: 1,
      maxQueued: options.maxQueued ?? 0,
      queueTimeoutMs: options.queueTimeoutMs ?? 60_000,
      maxRetryAfterSeconds: options.maxRetryAfterSeconds ?? 30,
      ...(options.firstRetryAfterSeconds !== undefined && { firstRetryAfterSeconds: options.firstRetryAfterSeconds }),
      now: () => clock.now,
      random: () => draws[draw++ % draws.length],
    });
    for (let i = 0; i < 10; i++) await gate.run(async () => void (clock.now += 100));
    clock.now += 10_000;
    void gate.run(() => new Promise(() => undefined));
    const shedOnce = async (): Promise<ShedError> => {
      const error = await gate.run(() => Promise.resolve()).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ShedError);
      return error as ShedError;
    };
    return { gate, shedOnce, clock };
  }

  /** The longest delay told to 100 claims shed in each second of a crowd lasting `seconds` + 1 seconds. */
  async function longestEachSecond(
    { shedOnce, clock }: { shedOnce: () => Promise<ShedError>; clock: { now: number } },
    seconds: number,
  ): Promise<number[]> {
    const longest: number[] = [];
    for (let second = 0; second <= seconds; second++) {
      let most = 0;
      for (let i = 0; i < 100; i++) most = Math.max(most, (await shedOnce()).retryAfterSeconds);
      longest.push(most);
      clock.now += 1_000;
    }
    return longest;
  }

  it('gives each shed claim its turn behind the crowd already shed, at the rate claims are finished, and never beyond its maximum', async () => {
    const { shedOnce } = await busyGate();
    const delays: number[] = [];
    for (let i = 0; i < 400; i++) delays.push((await shedOnce()).retryAfterSeconds);
    // At 10/s (100 ms a claim, learnt from the work, not from the quiet spell), the k-th claim shed (from 0)
    // has the one in flight and k shed claims in front: its turn is (k + 1) x 100 ms away, in whole seconds
    // (rounded down here, where the random draw is 0), at least 1.
    expect(delays.slice(0, 20)).toEqual([...Array(19).fill(1), 2]);
    expect(delays[39]).toBe(4);
    expect(delays.slice(0, 40)).toEqual(delays.slice(0, 40).sort((a, b) => a - b));
    // In a spell of shedding's first seconds nobody is told more than 5 s; a turn past 4 s (the longest
    // delay's last second, or beyond it) is drawn from 3-5 s (3 here, where the draw is 0).
    expect(delays.slice(40)).toEqual(Array(360).fill(3));
  });

  it('lets the longest delay grow with a spell of shedding that lasts, to its maximum; a pause ends the spell', async () => {
    // The draw is 0.999: a crowd beyond the longest delay is told the top of its range.
    const { shedOnce, clock } = await busyGate({ maxRetryAfterSeconds: 30, random: 0.999 });
    // A crowd far larger than 10/s can serve: 100 shed each second, for three minutes.
    const longest = await longestEachSecond({ shedOnce, clock }, 180);
    // 5 s for the first 5 s, then the spell's length, up to 30 s (after half a minute).
    expect(longest.slice(0, 6)).toEqual(Array(6).fill(5));
    expect(longest[10]).toBe(10);
    expect(longest[25]).toBe(25);
    expect(longest.slice(30)).toEqual(Array(151).fill(30));
    expect(longest).toEqual([...longest].sort((a, b) => a - b));
    // Ten seconds and more without a shed claim end the spell: the next crowd starts at 5 s again.
    clock.now += 10_001;
    expect((await shedOnce()).retryAfterSeconds).toBeLessThanOrEqual(5);
    for (let i = 0; i < 200; i++) expect((await shedOnce()).retryAfterSeconds).toBeLessThanOrEqual(5);
  });

  it("bounds a spell's first seconds at firstRetryAfterSeconds when given, and grows from there as before", async () => {
    // A crowd beyond the longest delay is told the top of its range (the draw is 0.999).
    const busy = await busyGate({ maxRetryAfterSeconds: 30, firstRetryAfterSeconds: 2, random: 0.999 });
    // 10/s learnt from the work, then a crowd far larger: 100 shed each second for a minute.
    const longest = await longestEachSecond(busy, 60);
    // 2 s until the spell has lasted longer (2 s), then its length: 3 s at 3 s, 20 s at 20 s, 30 s from 30 s.
    expect(longest.slice(0, 3)).toEqual(Array(3).fill(2));
    expect(longest[3]).toBe(3);
    expect(longest[20]).toBe(20);
    expect(longest.slice(30)).toEqual(Array(31).fill(30));
  });

  it('sheds a waiter whose time is up when a slot frees before its timer has fired, and starts the next one in time', async () => {
    const clock = { now: 0 };
    const gate = new AdmissionGate({ maxInFlight: 1, maxQueued: 5, queueTimeoutMs: 60_000, now: () => clock.now });
    const release = deferred();
    const started: string[] = [];
    const work = (name: string) => async (): Promise<string> => {
      started.push(name);
      if (name === 'held') await release.promise;
      return name;
    };
    const held = gate.run(work('held'));
    const late = gate.run(work('late')).catch((caught: unknown) => caught);
    clock.now = 30_000;
    const inTime = gate.run(work('in time'));
    // The clock passes the first waiter's time (60 s), not the second's (90 s); their timers have not fired
    // (as on an event loop busy past them), and the held claim ends now.
    clock.now = 60_001;
    release.resolve();
    await expect(held).resolves.toBe('held');
    const shed = (await late) as ShedError;
    expect(shed).toBeInstanceOf(ShedError);
    expect(shed.why).toBe('QUEUE_TIMEOUT');
    await expect(inTime).resolves.toBe('in time');
    expect(started).toEqual(['held', 'in time']);
    expect(gate.load).toEqual({ inFlight: 0, queued: 0 });
  });

  it('counts only a full gate shedding as a spell: one late claim every 9 s does not make the next crowd wait up to 30 s', async () => {
    const clock = { now: 0 };
    const gate = new AdmissionGate({
      maxInFlight: 1,
      maxQueued: 0,
      queueTimeoutMs: 5_000,
      maxRetryAfterSeconds: 30,
      now: () => clock.now,
      random: () => 0.999,
    });
    // For three minutes, with the gate idle, one claim every 9 s reaches it past its time to start (a client
    // that sends its request slowly, or a gateway that gave up on it): each is shed, and nobody else is.
    for (let second = 0; second <= 180; second += 9) {
      expect(gate.shedLate().retryAfterSeconds).toBeLessThanOrEqual(5);
      await expect(gate.run(() => Promise.resolve(), { waitedMs: 6_000 })).rejects.toBeInstanceOf(ShedError);
      clock.now += 9_000;
    }
    // Then a crowd fills the gate: its first seconds are told at most 5 s, as any crowd's.
    void gate.run(() => new Promise(() => undefined));
    for (let i = 0; i < 50; i++) {
      const shed = (await gate.run(() => Promise.resolve()).catch((caught: unknown) => caught)) as ShedError;
      expect(shed).toBeInstanceOf(ShedError);
      expect(shed.retryAfterSeconds).toBeLessThanOrEqual(5);
    }
  });

  it("rounds a turn up with the probability of its fraction of a second, so one second's crowd does not come back at once", async () => {
    const up = await busyGate({ random: 0.999 });
    const delays: number[] = [];
    for (let i = 0; i < 20; i++) delays.push((await up.shedOnce()).retryAfterSeconds);
    // Turns 0.1 s ... 2.0 s: with a draw of 0.999 each fraction is rounded up (0.1 -> 1, 1.1 -> 2; 1.0 -> 1).
    expect(delays).toEqual([...Array(10).fill(1), ...Array(10).fill(2)]);
  });

  it('promises nothing beyond its maximum: once the crowd is served, the next one shed is told the short delay again', async () => {
    const { shedOnce, clock } = await busyGate({ maxRetryAfterSeconds: 5 });
    for (let i = 0; i < 200; i++) await shedOnce();
    expect((await shedOnce()).retryAfterSeconds).toBe(3);
    clock.now += 5_000;
    expect((await shedOnce()).retryAfterSeconds).toBe(1);
  });

  it('spreads a crowd larger than the longest delay holds over its upper half, rather than telling it all that delay', async () => {
    const { shedOnce } = await busyGate({ random: [0, 0.4, 0.8] });
    // 10/s learnt from the work; then 300 shed at once: 30 s of work, beyond the 5 s a spell's first seconds allow.
    const told = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const { retryAfterSeconds } = await shedOnce();
      told.set(retryAfterSeconds, (told.get(retryAfterSeconds) ?? 0) + 1);
    }
    // The first 40 are told their turns (1-4 s); the other 260 come back over 3, 4 and 5 s, a third each.
    expect(Math.max(...told.keys())).toBe(5);
    for (const seconds of [3, 4, 5]) expect(told.get(seconds)).toBeGreaterThanOrEqual(80);
    expect(told.get(5)).toBeLessThan(100);
  });

  it('draws a random delay over the whole allowed range while it has not finished enough claims to know its rate', async () => {
    for (const [random, expected] of [
      [0, 1],
      [0.999, 5],
    ] as const) {
      const gate = new AdmissionGate({ maxInFlight: 1, maxQueued: 0, queueTimeoutMs: 60_000, random: () => random });
      void gate.run(() => new Promise(() => undefined));
      await expect(gate.run(() => Promise.resolve())).rejects.toMatchObject({ retryAfterSeconds: expected });
    }
  });

  /** A gate of two places on a fake clock, after `claims` claims of `ms` each, run alone (one place taken). */
  async function twoPlaceGate(
    claims: number,
    ms: number,
    random: number,
  ): Promise<{ gate: AdmissionGate; clock: { now: number } }> {
    const clock = { now: 0 };
    const gate = new AdmissionGate({
      maxInFlight: 2,
      maxQueued: 0,
      queueTimeoutMs: 60_000,
      now: () => clock.now,
      random: () => random,
    });
    for (let i = 0; i < claims; i++) await gate.run(async () => void (clock.now += ms));
    return { gate, clock };
  }

  /** Fills both places of the gate with claims that never end. */
  function fill(gate: AdmissionGate): void {
    void gate.run(() => new Promise(() => undefined));
    void gate.run(() => new Promise(() => undefined));
  }

  it('does not learn its rate from claims that ran alone: they are faster than claims sharing a full gate', async () => {
    // 20 claims of 5 ms, each alone: at 2 x 200/s they would promise 400/s.
    const { gate, clock } = await twoPlaceGate(20, 5, 0.999);
    clock.now += 60_000;
    fill(gate);
    // Rate unknown: a random delay over 1-5 s (5 with this draw), not 1 s for everyone.
    await expect(gate.run(() => Promise.resolve())).rejects.toMatchObject({ retryAfterSeconds: 5 });
  });

  it('follows the pace of the claims finished in the last seconds', async () => {
    // Ten claims finished 100 ms apart, each alone (so only their pace is known): 10 in 0.9 s.
    const { gate } = await twoPlaceGate(10, 100, 0);
    fill(gate);
    const delays: number[] = [];
    for (let i = 0; i < 25; i++) {
      delays.push(((await gate.run(() => Promise.resolve()).catch((error: unknown) => error)) as ShedError).retryAfterSeconds);
    }
    // 90 ms a claim: the k-th shed has 2 running and k shed in front, its turn (k + 2) x 90 ms away.
    expect(delays.slice(0, 21)).toEqual(Array(21).fill(1));
    expect(delays.slice(21)).toEqual([2, 2, 2, 2]);
  });

  it('a claim that waited out its time counts only the claims queued before it, not those behind', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { gate } = await busyGate({ maxQueued: 100, queueTimeoutMs: 10_000 });
    const waiting = Array.from({ length: 30 }, () =>
      gate.run(() => Promise.resolve()).catch((error: unknown) => error as ShedError),
    );
    expect(gate.load).toEqual({ inFlight: 1, queued: 30 });
    vi.advanceTimersByTime(10_000);
    const delays = (await Promise.all(waiting)).map((error) => (error as ShedError).retryAfterSeconds);
    // Each times out first in the queue: the one in flight and the crowd shed before it are in front, so
    // turns of 0.1 s ... 3.0 s at 10/s (with the 29 behind it counted, the first alone would be 3 s away).
    expect(delays[0]).toBe(1);
    expect(delays[29]).toBe(3);
  });

  it('turns a claim away at once when its wait in the queue, at the rate claims are finished, would outlast the time limit', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    // 10/s and a 1 s limit: ten can wait (the tenth for 1 s), the eleventh would wait 1.1 s.
    const { gate, shedOnce } = await busyGate({ maxQueued: 100, queueTimeoutMs: 1_000 });
    for (let i = 0; i < 10; i++) void gate.run(() => Promise.resolve()).catch(() => undefined);
    expect(gate.load).toEqual({ inFlight: 1, queued: 10 });
    expect((await shedOnce()).why).toBe('QUEUE_FULL');
    expect(gate.load).toEqual({ inFlight: 1, queued: 10 });
    expect(gate.shedOnArrival()?.why).toBe('QUEUE_FULL');
  });

  it('counts the requests let in that will reach it first (comingAhead) as taking its free places, then as queued', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    // Idle, at 10/s with a 1 s limit: an arrival behind up to ten on their way would still be started in time.
    const gate = new AdmissionGate({ maxInFlight: 2, maxQueued: 100, queueTimeoutMs: 1_000 });
    expect(gate.shedOnArrival(1)).toBeUndefined();
    expect(gate.shedOnArrival(2)).toBeUndefined();
    const { gate: busy } = await busyGate({ maxQueued: 100, queueTimeoutMs: 1_000 });
    // Full, nobody queued: nine on their way leave room for a tenth in the queue, ten on their way do not.
    expect(busy.shedOnArrival(9)).toBeUndefined();
    expect(busy.shedOnArrival(10)?.why).toBe('QUEUE_FULL');
    // And by the queue's length alone, before any rate is known.
    const small = new AdmissionGate({ maxInFlight: 2, maxQueued: 3, queueTimeoutMs: 1_000 });
    expect(small.shedOnArrival(4)).toBeUndefined();
    expect(small.shedOnArrival(5)?.why).toBe('QUEUE_FULL');
  });
});

/**
 * A gate shared by clients (the auth server's password gate, by address): one client with many requests queued
 * must not take every freed slot from another that has only one waiting.
 */
describe('AdmissionGate fair by client', () => {
  /** Runs for `client` that start in the order `started` records and each end when the test says so. */
  function clients(gate: AdmissionGate): {
    started: string[];
    run: (client: string, name: string) => Promise<string>;
    finish: (name: string) => void;
  } {
    const started: string[] = [];
    const ends = new Map<string, () => void>();
    return {
      started,
      run: (client, name) =>
        gate.run(
          async () => {
            started.push(name);
            await new Promise<void>((resolve) => ends.set(name, resolve));
            return name;
          },
          { fairBy: client },
        ),
      finish: (name) => ends.get(name)!(),
    };
  }

  it('gives a freed slot to a client that has had none before another turn of a client with many queued', async () => {
    const gate = new AdmissionGate({ maxInFlight: 1, maxQueued: 10, queueTimeoutMs: 60_000 });
    const { started, run, finish } = clients(gate);
    const runs = ['a1', 'a2', 'a3', 'a4', 'a5'].map((name) => run('A', name));
    runs.push(run('B', 'b1'));
    expect(gate.load).toEqual({ inFlight: 1, queued: 5 });
    for (const name of ['a1', 'b1', 'a2', 'a3', 'a4', 'a5']) {
      await vi.waitFor(() => expect(started.at(-1)).toBe(name), { interval: 1 });
      finish(name);
    }
    await Promise.all(runs);
    expect(started).toEqual(['a1', 'b1', 'a2', 'a3', 'a4', 'a5']);
    expect(gate.load).toEqual({ inFlight: 0, queued: 0 });
  });

  it('gives a freed slot to the client with the fewest running, even one admitted more recently', async () => {
    const gate = new AdmissionGate({ maxInFlight: 2, maxQueued: 10, queueTimeoutMs: 60_000 });
    const { started, run, finish } = clients(gate);
    const runs = [run('B', 'b1'), run('A', 'a1'), run('B', 'b2'), run('A', 'a2')];
    await vi.waitFor(() => expect(started).toEqual(['b1', 'a1']), { interval: 1 });
    finish('a1');
    await vi.waitFor(() => expect(started).toEqual(['b1', 'a1', 'a2']), { interval: 1 });
    for (const name of ['b1', 'a2', 'b2']) {
      await vi.waitFor(() => expect(started).toContain(name), { interval: 1 });
      finish(name);
    }
    await Promise.all(runs);
    expect(started).toEqual(['b1', 'a1', 'a2', 'b2']);
  });

  it('keeps nothing for a client once it has nothing running or waiting, however its runs ended', async () => {
    const gate = new AdmissionGate({ maxInFlight: 1, maxQueued: 10, queueTimeoutMs: 20 });
    const { run, finish } = clients(gate);
    const kept = (): number => (gate as unknown as { clients: Map<unknown, unknown> }).clients.size;
    const first = run('A', 'a1');
    // Waits out its time behind a1 and is shed.
    await expect(run('B', 'b1')).rejects.toBeInstanceOf(ShedError);
    expect(kept()).toBe(1);
    finish('a1');
    await first;
    expect(kept()).toBe(0);
    // A failing run gives its place back too.
    await expect(gate.run(() => Promise.reject(new Error('failed')), { fairBy: 'C' })).rejects.toThrow('failed');
    expect(kept()).toBe(0);
    expect(gate.load).toEqual({ inFlight: 0, queued: 0 });
  });
});
