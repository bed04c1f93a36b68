import bcrypt from 'bcrypt';
import { describe, expect, it, vi } from 'vitest';
import { testDatabaseName } from '../../../test-support/database.js';
import {
  type Reply,
  appPerBlock,
  call,
  login,
  loginFrom,
  register,
  registeredAccount,
  signedInUser,
  uniqueEmail,
} from '../testing/auth-test-app.js';
import { PasswordGate } from '../throttling/password-gate.js';
import { ThrottleAttemptRepository } from '../throttling/throttle-attempt.repository.js';

type Account = { email: string; password: string };

/** `count` fresh accounts (`prefix` names the test in their emails), registered one after another. */
async function freshAccounts(app: Parameters<typeof registeredAccount>[0], count: number, prefix: string): Promise<Account[]> {
  const accounts: Account[] = [];
  for (let index = 0; index < count; index += 1) accounts.push(await registeredAccount(app, prefix));
  return accounts;
}

/**
 * A crowd signing in at once: the server checks at most PASSWORD_HASH_MAX_IN_FLIGHT passwords at a time and
 * answers the rest 503 AUTH_BUSY with Retry-After at once (nothing done, nothing counted), instead of making
 * every one wait until the gateway gives up.
 */
describe('the password gate', () => {
  // One password at a time and no queue: while one is held, every other is shed.
  const block = appPerBlock(testDatabaseName('password_gate'), {
    PASSWORD_HASH_MAX_IN_FLIGHT: '1',
    PASSWORD_HASH_MAX_QUEUED: '0',
  });

  /**
   * Holds the next password comparison (that of `password` against the account's stored hash) until `release`
   * is called; `held` resolves once it has begun.
   */
  async function holdNextComparison(email: string, password: string): Promise<{ held: Promise<void>; release: () => void }> {
    const stored = await block.db.collection('users').findOne({ email });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    // Once its one value is taken, the spy calls bcrypt itself again.
    const compare = vi
      .spyOn(bcrypt, 'compare')
      .mockReturnValueOnce(released.then(() => bcrypt.compare(password, String(stored?.passwordHash))) as never);
    const held = (async () => {
      while (compare.mock.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    })();
    return { held, release };
  }

  const attempts = (scope: 'LOGIN' | 'REGISTER') => block.db.collection('throttle_attempts').countDocuments({ scope });

  it('sheds sign-ins and registrations beyond it with 503 AUTH_BUSY and Retry-After, doing and counting nothing', async () => {
    const first = await register(block.app, { email: uniqueEmail('gate') });
    const second = await register(block.app, { email: uniqueEmail('gate') });
    expect([first.status, second.status]).toEqual([201, 201]);
    const registrationsBefore = await attempts('REGISTER');

    const { held, release } = await holdNextComparison(first.email, first.password);
    const holding = login(block.app, first.email, first.password);
    await held;
    const shed: Reply[] = [
      await login(block.app, second.email, second.password),
      await login(block.app, second.email, 'a-wrong-password'),
      await call(block.app, 'POST', '/auth/register', { body: { email: uniqueEmail('gate'), password: 'password-123' } }),
    ];
    for (const reply of shed) {
      expect(reply.status).toBe(503);
      expect(reply.body).toMatchObject({ statusCode: 503, code: 'AUTH_BUSY' });
      expect(Number(reply.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    // Nothing was done for them, not even for a moment: turned away before the throttle recorded an attempt
    // (the one sign-in attempt recorded is the held one's), no account, no registration attempt counted.
    expect(await attempts('LOGIN')).toBe(1);
    expect(await block.db.collection('users').countDocuments({ email: { $regex: /^gate-/ } })).toBe(2);
    expect(await attempts('REGISTER')).toBe(registrationsBefore);

    release();
    expect((await holding).status).toBe(200);
    expect(await attempts('LOGIN')).toBe(0);
    // Once the crowd is gone, the same requests are served.
    expect((await login(block.app, second.email, second.password)).status).toBe(200);
    expect((await login(block.app, second.email, 'a-wrong-password')).status).toBe(401);
  });
});

/**
 * One client's share of the password path: a few accounts signing in correctly in a loop from one address
 * (successful logins are not throttled) must not keep the gate's queue to themselves.
 */
describe('the password gate, per client', () => {
  const block = appPerBlock(testDatabaseName('password_gate_client'), {
    PASSWORD_HASH_PER_CLIENT: '2',
    PASSWORD_HASH_MAX_IN_FLIGHT: '3',
    PASSWORD_HASH_MAX_QUEUED: '100',
  });

  const attempts = () => block.db.collection('throttle_attempts').countDocuments({ scope: 'LOGIN' });

  it('answers a client that already has its share, while another waits, 503 AUTH_BUSY at once, records nothing for it, and serves everyone else', async () => {
    const [a, b, c, d] = (await freshAccounts(block.app, 4, 'share')) as [Account, Account, Account, Account];
    // The first three comparisons are held until released; any later one runs as usual.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const realCompare = bcrypt.compare.bind(bcrypt) as (data: string, encrypted: string) => Promise<boolean>;
    let calls = 0;
    vi.spyOn(bcrypt, 'compare').mockImplementation((async (data: string, encrypted: string) => {
      calls += 1;
      if (calls <= 3) await released;
      return realCompare(data, encrypted);
    }) as never);
    const crowd = '198.51.100.7';
    // The crowd's address takes its two places, another client the gate's third: the gate is full.
    const holding = [
      loginFrom(block.app, crowd, a.email, a.password),
      loginFrom(block.app, crowd, b.email, b.password),
      loginFrom(block.app, '198.51.100.8', d.email, d.password),
    ];
    await vi.waitFor(() => expect(calls).toBe(3), { timeout: 10_000, interval: 5 });

    const third = await loginFrom(block.app, crowd, c.email, c.password);
    expect(third.status).toBe(503);
    expect(third.body).toMatchObject({ statusCode: 503, code: 'AUTH_BUSY' });
    expect(third.headers['retry-after']).toBe('1');
    // Nothing recorded for it: the three held attempts only.
    expect(await attempts()).toBe(3);
    // Another address is let in (it waits in the queue for its turn, served once the held ones finish).
    const other = loginFrom(block.app, '198.51.100.9', d.email, d.password);
    await vi.waitFor(async () => expect(await attempts()).toBe(4), { timeout: 10_000, interval: 5 });
    release();
    expect((await Promise.all([...holding, other])).map((reply) => reply.status)).toEqual([200, 200, 200, 200]);
    // Its places are given back: the same client is served again, a wrong password counted as ever.
    expect((await loginFrom(block.app, crowd, c.email, c.password)).status).toBe(200);
    expect((await loginFrom(block.app, crowd, c.email, 'a-wrong-password')).status).toBe(401);
    expect(await attempts()).toBe(1);
  });
});

/**
 * One address whose sign-ins keep the queue full: every other client is turned away on arrival, before it holds a
 * place, and still counts as waiting for the address's share (an attacker's pass: a victim refused 22 of 24).
 */
describe('the password gate, per client, against an address that fills the queue', () => {
  const block = appPerBlock(testDatabaseName('password_gate_fill'), {
    PASSWORD_HASH_PER_CLIENT: '2',
    PASSWORD_HASH_MAX_IN_FLIGHT: '1',
    PASSWORD_HASH_MAX_QUEUED: '2',
    // Nothing queued is shed for its time while the test holds the comparisons, however slow the machine.
    PASSWORD_HASH_QUEUE_TIMEOUT_MS: '60000',
  });

  it("answers the address's next sign-in beyond its share 503 once another client was turned away, so that one gets in when it comes back", async () => {
    const [a1, a2, a3, a4, victim] = await freshAccounts(block.app, 5, 'fill');
    // Every comparison is held until the test lets it go, one at a time.
    const held: Array<() => void> = [];
    const realCompare = bcrypt.compare.bind(bcrypt) as (data: string, encrypted: string) => Promise<boolean>;
    vi.spyOn(bcrypt, 'compare').mockImplementation((async (data: string, encrypted: string) => {
      await new Promise<void>((resolve) => held.push(resolve));
      return realCompare(data, encrypted);
    }) as never);
    const gate = block.app.get(PasswordGate);
    // Its clock stands still: the client turned away is not back yet, however slow the machine running the test.
    const now = performance.now();
    vi.spyOn(gate as unknown as { now: () => number }, 'now').mockReturnValue(now);
    const hog = '198.51.100.20';
    // The address's three sign-ins: one being checked, two queued (the queue is full).
    let answered = 0;
    const hogs = [a1!, a2!, a3!].map((account) =>
      loginFrom(block.app, hog, account.email, account.password).then((reply) => {
        answered += 1;
        return reply;
      }),
    );
    await vi.waitFor(() => expect(gate.load).toEqual({ inFlight: 1, queued: 2 }), { timeout: 10_000, interval: 5 });

    const turnedAway = await loginFrom(block.app, '198.51.100.21', victim!.email, victim!.password);
    expect(turnedAway.status).toBe(503);
    expect(turnedAway.body).toMatchObject({ code: 'AUTH_BUSY' });
    // One of the address's sign-ins finishes and makes room in the queue.
    held.shift()!();
    await vi.waitFor(() => expect(answered).toBe(1), { timeout: 10_000, interval: 5 });
    await vi.waitFor(() => expect(gate.load).toEqual({ inFlight: 1, queued: 1 }), { timeout: 10_000, interval: 5 });
    // The address has its share (two) in the path while the other client waits outside: its next one is refused.
    let beyondShare: Reply | undefined;
    void loginFrom(block.app, hog, a4!.email, a4!.password).then((reply) => (beyondShare = reply));
    // Answered, or let into the queue (where it would wait for a comparison the test holds).
    await vi.waitFor(() => expect(beyondShare !== undefined || gate.load.queued === 2).toBe(true), {
      timeout: 10_000,
      interval: 5,
    });
    expect(beyondShare?.status).toBe(503);
    expect(beyondShare?.body).toMatchObject({ code: 'AUTH_BUSY' });
    expect(beyondShare?.headers['retry-after']).toBe('1');
    // The client turned away comes back and has the room.
    const back = loginFrom(block.app, '198.51.100.21', victim!.email, victim!.password);
    await vi.waitFor(() => expect(gate.load).toEqual({ inFlight: 1, queued: 2 }), { timeout: 10_000, interval: 5 });
    for (let left = 3; left > 0; left -= 1) {
      await vi.waitFor(() => expect(held.length).toBe(1), { timeout: 10_000, interval: 5 });
      held.shift()!();
    }
    expect((await Promise.all([...hogs, back])).map((reply) => reply.status)).toEqual([200, 200, 200, 200]);
  });
});

/**
 * The gate's queue, fair by client: one address signing in correctly in a loop (many requests queued) must not take
 * every place freed from another client with one sign-in waiting (first come, first served, a victim retrying at
 * once signed in 4-6 times in 10 s).
 */
describe('the password gate, fair by client', () => {
  const block = appPerBlock(testDatabaseName('password_gate_fair'), {
    PASSWORD_HASH_MAX_IN_FLIGHT: '1',
    PASSWORD_HASH_MAX_QUEUED: '100',
    // Beyond the address's sign-ins here: the queue's order, not the address's share, is under test.
    PASSWORD_HASH_PER_CLIENT: '100',
    // Nothing queued is shed for its time while the test holds the comparisons, however slow the machine.
    PASSWORD_HASH_QUEUE_TIMEOUT_MS: '60000',
  });

  it("checks another client's sign-in next when a place frees, before the rest of the address's queued ones", async () => {
    const [a1, a2, a3, a4, victim] = (await freshAccounts(block.app, 5, 'fair')) as [Account, Account, Account, Account, Account];
    // Every comparison is held until the test lets it go, and the hash it compares against is recorded (the
    // accounts share their password, not their hash).
    const compared: string[] = [];
    const held: Array<() => void> = [];
    const realCompare = bcrypt.compare.bind(bcrypt) as (data: string, encrypted: string) => Promise<boolean>;
    vi.spyOn(bcrypt, 'compare').mockImplementation((async (data: string, encrypted: string) => {
      compared.push(encrypted);
      await new Promise<void>((resolve) => held.push(resolve));
      return realCompare(data, encrypted);
    }) as never);
    const gate = block.app.get(PasswordGate);
    const hog = '198.51.100.30';
    const hogs = [a1, a2, a3, a4].map((account) => loginFrom(block.app, hog, account.email, account.password));
    let victims: Promise<{ status: number }> | undefined;
    try {
      await vi.waitFor(() => expect(gate.load).toEqual({ inFlight: 1, queued: 3 }), { timeout: 10_000, interval: 5 });
      victims = loginFrom(block.app, '198.51.100.31', victim.email, victim.password);
      await vi.waitFor(() => expect(gate.load).toEqual({ inFlight: 1, queued: 4 }), { timeout: 10_000, interval: 5 });
      for (let checked = 1; checked <= 5; checked += 1) {
        await vi.waitFor(() => expect(held).toHaveLength(1), { timeout: 10_000, interval: 5 });
        expect(compared).toHaveLength(checked);
        held.shift()!();
      }
    } finally {
      // The later tests compare passwords unheld, whatever this one came to.
      vi.restoreAllMocks();
      for (const release of held.splice(0)) release();
    }
    // One of the address's first (its sign-ins reach the gate in no set order among themselves), then the other
    // client's, before the address's others.
    const hashOf = async (account: Account) =>
      String((await block.db.collection('users').findOne({ email: account.email }))?.passwordHash);
    expect(compared[1]).toBe(await hashOf(victim));
    expect(new Set(compared)).toEqual(new Set(await Promise.all([a1, a2, a3, a4, victim].map(hashOf))));
    expect((await Promise.all([...hogs, victims!])).map((reply) => reply.status)).toEqual([200, 200, 200, 200, 200]);
  });

  it("checks a password change in its own client's turn, not with every other client's password changes", async () => {
    const [hog, signIn] = (await freshAccounts(block.app, 2, 'fair-change')) as [Account, Account];
    const [first, second] = [await signedInUser(block.app), await signedInUser(block.app)];
    // Their hashes before the changes replace them.
    const hashOf = async (email: string) => String((await block.db.collection('users').findOne({ email }))?.passwordHash);
    const [firstHash, secondHash, signInHash] = await Promise.all([first.email, second.email, signIn.email].map(hashOf));
    const compared: string[] = [];
    const held: Array<() => void> = [];
    let holding = true;
    const realCompare = bcrypt.compare.bind(bcrypt) as (data: string, encrypted: string) => Promise<boolean>;
    vi.spyOn(bcrypt, 'compare').mockImplementation((async (data: string, encrypted: string) => {
      compared.push(encrypted);
      if (holding) await new Promise<void>((resolve) => held.push(resolve));
      return realCompare(data, encrypted);
    }) as never);
    const gate = block.app.get(PasswordGate);
    const changeFrom = (address: string, user: typeof first) =>
      call(block.app, 'POST', '/users/me/password', {
        token: user.accessToken,
        body: { currentPassword: user.password, newPassword: 'a-new-password-1' },
        headers: { 'x-forwarded-for': address },
        remoteAddress: '127.0.0.1',
      });
    const replies: Array<Promise<{ status: number }>> = [];
    let order: string[] = [];
    try {
      replies.push(loginFrom(block.app, '198.51.100.40', hog.email, hog.password));
      await vi.waitFor(() => expect(gate.load).toEqual({ inFlight: 1, queued: 0 }), { timeout: 10_000, interval: 5 });
      // Two password changes from two addresses, then a sign-in from a third, each queued in turn.
      replies.push(changeFrom('198.51.100.41', first));
      await vi.waitFor(() => expect(gate.load).toEqual({ inFlight: 1, queued: 1 }), { timeout: 10_000, interval: 5 });
      replies.push(changeFrom('198.51.100.42', second));
      await vi.waitFor(() => expect(gate.load).toEqual({ inFlight: 1, queued: 2 }), { timeout: 10_000, interval: 5 });
      replies.push(loginFrom(block.app, '198.51.100.43', signIn.email, signIn.password));
      await vi.waitFor(() => expect(gate.load).toEqual({ inFlight: 1, queued: 3 }), { timeout: 10_000, interval: 5 });
      for (let checked = 1; checked <= 2; checked += 1) {
        await vi.waitFor(() => expect(held).toHaveLength(1), { timeout: 10_000, interval: 5 });
        expect(compared).toHaveLength(checked);
        held.shift()!();
      }
      await vi.waitFor(() => expect(compared).toHaveLength(3), { timeout: 10_000, interval: 5 });
      order = compared.slice(1);
    } finally {
      holding = false;
      for (const release of held.splice(0)) release();
      vi.restoreAllMocks();
    }
    // Three clients with one each waiting, served in the order they came: the second change is not put behind the
    // later sign-in because another client's password change was just served (all counted as one client).
    expect(order.map((hash) => ({ [firstHash]: 'first', [secondHash]: 'second', [signInHash]: 'sign-in' })[hash])).toEqual([
      'first',
      'second',
    ]);
    expect((await Promise.all(replies)).map((reply) => reply.status)).toEqual([200, 204, 204, 200]);
  });
});

/**
 * A crowd signing in at once from as many addresses (an event's launch): each client has one attempt, so the
 * per-client bound on the throttle's store work does not hold the crowd back. Unbounded, their store work (the
 * attempt's insert and counts, the user lookup) queued in the driver until sign-ins whose password had matched
 * wrote their sessions after the gateway's 504. At most PASSWORD_HASH_STORE_MAX_IN_FLIGHT of them ask the store
 * at once; the rest are answered 503 AUTH_BUSY with Retry-After, nothing recorded for them.
 */
describe('the store work before the password, all clients together', () => {
  // Two sign-ins in the store work at once and no queue anywhere: while two are held there, every other is shed.
  const block = appPerBlock(testDatabaseName('password_gate_store'), {
    PASSWORD_HASH_STORE_MAX_IN_FLIGHT: '2',
    PASSWORD_HASH_MAX_IN_FLIGHT: '2',
    PASSWORD_HASH_MAX_QUEUED: '0',
  });

  it('lets two of a crowd from six addresses ask the store, answers the others 503 AUTH_BUSY at once, and records nothing for them', async () => {
    const players = await freshAccounts(block.app, 6, 'crowd');
    // One of them mistypes: a wrong password goes the same way as a right one.
    const attemptsOf = players.map((player, index) => ({
      ...player,
      password: index === 5 ? 'a-wrong-password' : player.password,
    }));
    // The store is slow: every attempt's insert waits until released (then it is made as usual).
    const repository = block.app.get(ThrottleAttemptRepository);
    const record = repository.record.bind(repository);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const recording = vi.spyOn(repository, 'record').mockImplementation(async (attempt) => {
      await released;
      return record(attempt);
    });
    const answered: Reply[] = [];
    const crowd = attemptsOf.map((player, index) =>
      loginFrom(block.app, `198.51.100.${120 + index}`, player.email, player.password).then((reply) => {
        answered.push(reply);
        return reply;
      }),
    );
    // Every sign-in of the crowd has either been answered or is asking the store.
    await vi.waitFor(() => expect(answered.length + recording.mock.calls.length).toBe(crowd.length), {
      timeout: 10_000,
      interval: 5,
    });
    expect(recording.mock.calls.length).toBe(2);
    for (const reply of answered) {
      expect(reply.status).toBe(503);
      expect(reply.body).toMatchObject({ statusCode: 503, code: 'AUTH_BUSY' });
      expect(Number(reply.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }

    release();
    const replies = await Promise.all(crowd);
    expect(replies.filter((reply) => reply.status === 503)).toHaveLength(4);
    const ids = new Map(
      (
        await block.db
          .collection('users')
          .find({ email: { $in: players.map((player) => player.email) } })
          .toArray()
      ).map((user) => [user.email as string, String(user._id)]),
    );
    for (const [index, reply] of replies.entries()) {
      // A right password gets in, a wrong one is refused, and a shed one has no session, whichever it was.
      expect(reply.status).toBe(reply.status === 503 ? 503 : index === 5 ? 401 : 200);
      const sessions = await block.db.collection('refresh_tokens').countDocuments({ userId: ids.get(players[index]!.email) });
      expect(sessions).toBe(reply.status === 200 ? 1 : 0);
    }
    // Only a wrong password that was checked counts against the throttle; nothing was recorded for a shed one.
    const failed = replies.filter((reply) => reply.status === 401).length;
    await vi.waitFor(async () =>
      expect(await block.db.collection('throttle_attempts').countDocuments({ scope: 'LOGIN' })).toBe(failed),
    );
    // Once the crowd is gone, the same sign-ins are served.
    for (const [index, player] of attemptsOf.entries()) {
      const again = await loginFrom(block.app, `198.51.100.${120 + index}`, player.email, player.password);
      expect(again.status).toBe(index === 5 ? 401 : 200);
    }
  });
});

/**
 * A sign-in that reaches its session write after the time the gateway gave it to start (X-Internal-Start-By: half
 * the gateway's timeout) may be answered 504 by the gateway before its answer comes: a session (a refresh token)
 * written then belongs to a client that was told the sign-in failed. Such a sign-in is refused 503 with
 * Retry-After instead, having written no session.
 */
describe('a sign-in past its start-by time', () => {
  // One password at a time, and a queue that would hold a sign-in for a minute if its start-by time did not.
  const block = appPerBlock(testDatabaseName('password_gate_start_by'), {
    PASSWORD_HASH_MAX_IN_FLIGHT: '1',
    PASSWORD_HASH_QUEUE_TIMEOUT_MS: '60000',
  });

  it('writes no session and answers 503 with Retry-After when the password check ends after the start-by time', async () => {
    const account = await register(block.app, { email: uniqueEmail('late') });
    expect(account.status).toBe(201);
    const user = await block.db.collection('users').findOne({ email: account.email });
    const sessions = () => block.db.collection('refresh_tokens').countDocuments({ userId: String(user?._id) });
    const before = await sessions();
    const startBy = Date.now() + 60_000;
    // The comparison is held until the clock has passed the start-by time (as a crowd ahead of it would make it).
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const realCompare = bcrypt.compare.bind(bcrypt) as (data: string, encrypted: string) => Promise<boolean>;
    let began = false;
    vi.spyOn(bcrypt, 'compare').mockImplementation((async (data: string, encrypted: string) => {
      began = true;
      await released;
      return realCompare(data, encrypted);
    }) as never);
    const answer = call(block.app, 'POST', '/auth/login', {
      body: { email: account.email, password: account.password },
      headers: { 'x-internal-start-by': String(startBy) },
    });
    while (!began) await new Promise((resolve) => setTimeout(resolve, 5));
    const realNow = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 120_000);
    release();
    const reply = await answer;
    vi.restoreAllMocks();
    expect(reply.status).toBe(503);
    expect(reply.body).toMatchObject({ statusCode: 503 });
    expect(Number(reply.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await sessions()).toBe(before);
    // In time, the same sign-in is served.
    expect((await login(block.app, account.email, account.password)).status).toBe(200);
  });

  /**
   * `send` (given the start-by header) while a sign-in's comparison is held, so the gate, one at a time, is full, and
   * with the clock past the start-by time once the request's throttle attempt is recorded, as a crowd ahead of it
   * would make it: it is answered 503 AUTH_BUSY with Retry-After while the comparison ahead is still held (it did not
   * wait for a turn it may not take), nothing compared or hashed for it, and the sign-in ahead is served.
   */
  async function answeredWhileAheadHeld(send: (headers: Record<string, string>) => Promise<Reply>) {
    const first = await registeredAccount(block.app, 'ahead');
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const realCompare = bcrypt.compare.bind(bcrypt) as (data: string, encrypted: string) => Promise<boolean>;
    const compared: string[] = [];
    vi.spyOn(bcrypt, 'compare').mockImplementation((async (data: string, encrypted: string) => {
      compared.push(data);
      if (compared.length === 1) await released;
      return realCompare(data, encrypted);
    }) as never);
    const hashed = vi.spyOn(bcrypt, 'hash');
    const holding = login(block.app, first.email, first.password);
    let reply: Reply | undefined;
    let hashes: number;
    try {
      await vi.waitFor(() => expect(compared).toHaveLength(1), { timeout: 10_000, interval: 5 });
      const startBy = Date.now() + 60_000;
      const repository = block.app.get(ThrottleAttemptRepository);
      const record = repository.record.bind(repository);
      const realNow = Date.now.bind(Date);
      vi.spyOn(repository, 'record').mockImplementation(async (attempt) => {
        const id = await record(attempt);
        vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 120_000);
        return id;
      });
      void send({ 'x-internal-start-by': String(startBy) }).then((answer) => (reply = answer));
      await vi.waitFor(() => expect(reply).toBeDefined(), { timeout: 10_000, interval: 5 });
    } finally {
      hashes = hashed.mock.calls.length;
      vi.restoreAllMocks();
      release();
    }
    expect(hashes).toBe(0);
    expect(reply?.status).toBe(503);
    expect(reply?.body).toMatchObject({ statusCode: 503, code: 'AUTH_BUSY' });
    expect(Number(reply?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(compared).toEqual([first.password]);
    expect((await holding).status).toBe(200);
  }

  it('sheds a sign-in still waiting for its password at its start-by time: 503 AUTH_BUSY, its password never compared, nothing counted or written', async () => {
    const late = await registeredAccount(block.app, 'late');
    const lateUser = await block.db.collection('users').findOne({ email: late.email });
    await answeredWhileAheadHeld((headers) =>
      call(block.app, 'POST', '/auth/login', { body: { email: late.email, password: late.password }, headers }),
    );
    expect(await block.db.collection('throttle_attempts').countDocuments({ account: late.email })).toBe(0);
    expect(await block.db.collection('refresh_tokens').countDocuments({ userId: String(lateUser?._id) })).toBe(0);
  });

  it('sheds a password change still waiting for its password at its start-by time: 503 AUTH_BUSY, nothing compared or changed', async () => {
    const user = await signedInUser(block.app);
    const stored = async () => String((await block.db.collection('users').findOne({ email: user.email }))?.passwordHash);
    const before = await stored();
    await answeredWhileAheadHeld((headers) =>
      call(block.app, 'POST', '/users/me/password', {
        token: user.accessToken,
        body: { currentPassword: user.password, newPassword: 'a-new-password-1' },
        headers,
      }),
    );
    expect(await stored()).toBe(before);
    expect((await login(block.app, user.email, user.password)).status).toBe(200);
  });

  it('sheds a registration still waiting for its password at its start-by time: 503 AUTH_BUSY, its password never hashed, no account made', async () => {
    const email = uniqueEmail('late-signup');
    await answeredWhileAheadHeld((headers) =>
      call(block.app, 'POST', '/auth/register', { body: { email, password: 'password-123' }, headers }),
    );
    expect(await block.db.collection('users').countDocuments({ email })).toBe(0);
    // In time, the same registration is served.
    expect((await register(block.app, { email })).status).toBe(201);
  });
});
