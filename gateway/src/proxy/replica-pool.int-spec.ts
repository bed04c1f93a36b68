import { type IncomingMessage, type Server, createServer } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type Dispatcher, Pool } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { TokenForge } from '../../../test-support/tokens.js';
import { FakeUpstream, unusedUrl } from '../testing/fake-upstream.js';
import { TEST_AUDIENCE, TEST_ISSUER, fakeAuthServer, startGateway } from '../testing/gateway-harness.js';
import { rawRequest } from '../testing/raw-http.js';
import { systemLookup } from '@reward/server-kit/host-lookup';
import { RESENT_AFTER_DROP_HEADER } from '@reward/server-kit/resent-after-drop';
import { RawBody } from './raw-body.js';
import { REPLICA_KEY_HEADER, ReplicaPool, isConnectFailure, isDroppedWithoutAnswer, replicaOrderOfKey } from './replica-pool.js';

// Real sockets on loopback: live replicas (fake upstreams), a port where nothing listens (refused), and
// a replica that reads a request and then drops the connection without answering (a crash mid-request).
const signer = TokenForge.generate({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE });
const auth = fakeAuthServer(signer);
const [one, two] = [new FakeUpstream(), new FakeUpstream()];
let dead: string;
let dropper: Server;
/** Another dropping replica (the same handler at another address). */
let secondDropper: Server;
let dropped = 0;
/** Reads a request and never answers (a replica stuck on it). */
let silent: Server;
const pools: ReplicaPool[] = [];

function url(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The index in `origins` of the replica a key goes to first. */
function firstOf(key: string, origins: readonly string[]): number {
  return replicaOrderOfKey(key, origins)[0]!;
}

/**
 * `perReplica` names (`<prefix>-<n>`) that go first to each of `origins`: where a name goes depends on the
 * replicas' ports, which differ from run to run, so names taken as they come may all go to one replica (eight
 * keys did in one run of 128; six players in one CI run).
 */
function namesPerReplica(prefix: string, perReplica: number, origins: readonly string[]): string[] {
  const names: string[] = [];
  const counts = origins.map(() => 0);
  for (let index = 0; names.length < perReplica * origins.length; index++) {
    const name = `${prefix}-${index}`;
    const replica = firstOf(name, origins);
    if (counts[replica]! < perReplica) {
      counts[replica]!++;
      names.push(name);
    }
  }
  return names;
}

/** Closes a test server now: the connections it holds (a request it never answers) are cut, not waited for. */
async function closeNow(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

beforeAll(async () => {
  await Promise.all([auth.start(), one.start(), two.start()]);
  dead = await unusedUrl();
  const dropOnce = (request: IncomingMessage): void => {
    request.resume();
    request.on('end', () => {
      dropped++;
      request.socket.destroy();
    });
  };
  dropper = createServer(dropOnce);
  await new Promise<void>((resolve) => dropper.listen(0, '127.0.0.1', resolve));
  secondDropper = createServer(dropOnce);
  await new Promise<void>((resolve) => secondDropper.listen(0, '127.0.0.1', resolve));
  silent = createServer((request) => request.resume());
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
  one.seen.length = 0;
  two.seen.length = 0;
  dropped = 0;
});

afterAll(async () => {
  await Promise.all([auth.stop(), one.stop(), two.stop()]);
  await new Promise((resolve) => dropper.close(resolve));
  await new Promise((resolve) => secondDropper.close(resolve));
  await closeNow(silent);
});

function poolOf(
  origins: string[],
  options: {
    cooldownMs?: number;
    timeoutMs?: number;
    now?: () => number;
    probeTimeoutMs?: number;
    probeIntervalMs?: number;
    mayResendAfterDrop?: (request: { headers: unknown }) => boolean;
    sameReplicaPerKey?: boolean;
    maxConnections?: number;
  } = {},
) {
  const downs: string[] = [];
  /** Those of `downs` taken out as frozen (until they answer again), not for the cooldown. */
  const frozenDowns: string[] = [];
  const backs: string[] = [];
  const resent: string[] = [];
  const pool = new ReplicaPool({
    origins,
    cooldownMs: options.cooldownMs ?? 5_000,
    connectTimeoutMs: 1_000,
    timeoutMs: options.timeoutMs ?? 5_000,
    now: options.now,
    onReplicaDown: (origin, _error, frozen) => {
      downs.push(origin);
      if (frozen) frozenDowns.push(origin);
    },
    onReplicaBack: (origin) => backs.push(origin),
    probeTimeoutMs: options.probeTimeoutMs,
    probeIntervalMs: options.probeIntervalMs,
    mayResendAfterDrop: options.mayResendAfterDrop,
    sameReplicaPerKey: options.sameReplicaPerKey,
    maxConnections: options.maxConnections,
    onResent: (origin) => resent.push(origin),
  });
  pools.push(pool);
  return { pool, downs, frozenDowns, backs, resent };
}

/**
 * A replica that can be put to sleep: asleep, it reads each request and answers nothing (a paused process)
 * until `answer(path)` answers the requests it holds for that path; awake, it answers every request 200.
 * With `health` set, it answers `/health` that status at once, asleep or not (a process whose store hangs:
 * its ping times out, every other request waits), or with 'reset' drops the connection of each.
 */
async function sleeper() {
  const held: { path: string; answer: () => void }[] = [];
  const seen: string[] = [];
  const state: { asleep: boolean; health?: number | 'reset' } = { asleep: true };
  const server = createServer((request, response) => {
    request.resume();
    seen.push(request.url ?? '');
    const answer = (): void => void response.end('ok');
    const { health } = state;
    if (request.url === '/health' && health !== undefined) {
      if (health === 'reset') request.socket.destroy();
      else response.writeHead(health).end();
    } else if (state.asleep) held.push({ path: request.url ?? '', answer });
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: url(server),
    seen,
    state,
    answer(path: string): void {
      for (const entry of held.filter((each) => each.path === path)) entry.answer();
    },
    async close(): Promise<void> {
      await closeNow(server);
    },
  };
}

/** Until `check` holds: a state, however long the machine takes to get there. */
const until = (check: () => void | Promise<void>) => vi.waitFor(check, { timeout: 20_000, interval: 10 });

function send(
  pool: ReplicaPool,
  options: Partial<Dispatcher.RequestOptions> = {},
): Promise<{ status: number; text: string } | { error: Error }> {
  return new Promise((resolve) => {
    pool.request({ method: 'GET', path: '/x', ...options } as Dispatcher.RequestOptions, (error, data) => {
      if (error || !data) return resolve({ error: error as Error });
      data.body.text().then(
        (text) => resolve({ status: data.statusCode, text }),
        (failure: Error) => resolve({ error: failure }),
      );
    });
  });
}

describe('ReplicaPool', () => {
  it('sends every request with one Idempotency-Key to the replica the key goes to, and the others in turn', async () => {
    const keyed = (request: { headers: unknown }) =>
      typeof (request.headers as Record<string, unknown>)['idempotency-key'] === 'string';
    const clock = { now: 1_000_000 };
    const { pool } = poolOf([one.url, two.url], { mayResendAfterDrop: keyed, sameReplicaPerKey: true, now: () => clock.now });
    // Four keys that go to each replica.
    const keys = namesPerReplica('tap', 4, [one.url, two.url]);
    const claimWith = (key: string, round: number) =>
      send(pool, { method: 'POST', path: `/c/${key}/${round}`, headers: { 'idempotency-key': key }, body: '' });
    for (let round = 0; round < 3; round++) {
      for (const key of keys) {
        expect(await claimWith(key, round)).toMatchObject({ status: 200 });
        // Requests without a key still take turns in between.
        expect(await send(pool, { path: `/plain/${key}/${round}` })).toMatchObject({ status: 200 });
      }
    }
    const replicaOf = (key: string) =>
      [one, two].filter((replica) => replica.seen.some((seen) => seen.url?.startsWith(`/c/${key}/`)));
    for (const key of keys) {
      // All three requests with the key, at the replica it hashes to.
      const [only, ...others] = replicaOf(key);
      expect(others, key).toEqual([]);
      expect(only, key).toBe([one, two][firstOf(key, [one.url, two.url])]);
      expect(
        only!.seen.filter((seen) => seen.url?.startsWith(`/c/${key}/`)),
        key,
      ).toHaveLength(3);
    }
    // The plain requests alternated.
    expect(one.seen.filter((seen) => seen.url?.startsWith('/plain/'))).toHaveLength(12);
    expect(two.seen.filter((seen) => seen.url?.startsWith('/plain/'))).toHaveLength(12);
  });

  it('sends requests by their replica key when they carry one, whatever their Idempotency-Key', async () => {
    const keyed = (request: { headers: unknown }) =>
      typeof (request.headers as Record<string, unknown>)['idempotency-key'] === 'string';
    const { pool } = poolOf([one.url, two.url], { mayResendAfterDrop: keyed, sameReplicaPerKey: true });
    // Three players whose replica is each of the two.
    const players = namesPerReplica('player', 3, [one.url, two.url]);
    for (const player of players) {
      for (let tap = 0; tap < 3; tap++) {
        // Each tap a key of its own (one hashing to each replica among them), the player's replica key the same.
        const headers = { 'idempotency-key': `${player}-tap-${tap}`, [REPLICA_KEY_HEADER]: player };
        expect(await send(pool, { method: 'POST', path: `/c/${player}/${tap}`, headers, body: '' })).toMatchObject({
          status: 200,
        });
      }
      // Without a key too.
      const plain = { [REPLICA_KEY_HEADER]: player };
      expect(await send(pool, { method: 'POST', path: `/c/${player}/plain`, headers: plain, body: '' })).toMatchObject({
        status: 200,
      });
    }
    for (const player of players) {
      const own = [one, two][firstOf(player, [one.url, two.url])]!;
      const other = own === one ? two : one;
      expect(
        own.seen.filter((seen) => seen.url?.startsWith(`/c/${player}/`)),
        player,
      ).toHaveLength(4);
      expect(
        other.seen.filter((seen) => seen.url?.startsWith(`/c/${player}/`)),
        player,
      ).toEqual([]);
    }
    expect(new Set(players.map((player) => firstOf(player, [one.url, two.url]))).size).toBe(2);
  });

  it('sends a key whose replica is out of rotation to the next one, the same for every request with it', async () => {
    const keyed = (request: { headers: unknown }) =>
      typeof (request.headers as Record<string, unknown>)['idempotency-key'] === 'string';
    // A key that goes to the refusing replica first (index 0 of three).
    const origins = [dead, one.url, two.url];
    const key = Array.from({ length: 100 }, (_, index) => `k-${index}`).find((each) => firstOf(each, origins) === 0)!;
    const { pool, downs } = poolOf(origins, { mayResendAfterDrop: keyed, sameReplicaPerKey: true });
    for (let round = 0; round < 4; round++) {
      expect(
        await send(pool, { method: 'POST', path: `/k/${round}`, headers: { 'idempotency-key': key }, body: '' }),
      ).toMatchObject({
        status: 200,
      });
    }
    expect(downs).toEqual([dead]);
    // The key's second replica, every time: not one request elsewhere.
    const [second, other] = replicaOrderOfKey(key, origins)[1] === 1 ? [one, two] : [two, one];
    expect(second.seen.map((seen) => seen.url)).toEqual(['/k/0', '/k/1', '/k/2', '/k/3']);
    expect(other.seen).toEqual([]);
  });

  it("spreads the keys of a replica out of rotation over the others, each key's over the same one every time", async () => {
    const keyed = (request: { headers: unknown }) =>
      typeof (request.headers as Record<string, unknown>)['idempotency-key'] === 'string';
    const origins = [dead, one.url, two.url];
    const keys = Array.from({ length: 200 }, (_, index) => `k-${index}`).filter((each) => firstOf(each, origins) === 0);
    const { pool } = poolOf(origins, { mayResendAfterDrop: keyed, sameReplicaPerKey: true });
    for (const key of keys) {
      const headers = { 'idempotency-key': key };
      expect(await send(pool, { method: 'POST', path: `/s/${key}`, headers, body: '' })).toMatchObject({ status: 200 });
    }
    const at = (replica: FakeUpstream) => replica.seen.filter((seen) => seen.url?.startsWith('/s/')).length;
    // About half each (a fixed next one would take them all).
    expect(at(one) + at(two)).toBe(keys.length);
    expect(Math.min(at(one), at(two))).toBeGreaterThanOrEqual(keys.length / 4);
    for (const key of keys) {
      const second = replicaOrderOfKey(key, origins)[1] === 1 ? one : two;
      expect(
        second.seen.some((seen) => seen.url === `/s/${key}`),
        key,
      ).toBe(true);
    }
  });

  it('takes turns over the replicas', async () => {
    const { pool } = poolOf([one.url, two.url]);
    for (let index = 0; index < 6; index++) expect(await send(pool, { path: `/n/${index}` })).toMatchObject({ status: 200 });
    expect(one.seen.map((request) => request.url)).toEqual(['/n/0', '/n/2', '/n/4']);
    expect(two.seen.map((request) => request.url)).toEqual(['/n/1', '/n/3', '/n/5']);
  });

  it('sends a request a refusing replica never received to the next one, and leaves that replica out for the cooldown', async () => {
    const clock = { now: 1_000_000 };
    const { pool, downs, frozenDowns } = poolOf([dead, one.url], { cooldownMs: 5_000, now: () => clock.now });
    expect(await send(pool, { path: '/first' })).toMatchObject({ status: 200 });
    expect(downs).toEqual([dead]);
    // Out for the cooldown, not frozen: a refusal says nothing was received, and it may be back soon.
    expect(frozenDowns).toEqual([]);
    expect(pool.inRotation()).toEqual([one.url]);
    for (let index = 0; index < 3; index++) expect(await send(pool)).toMatchObject({ status: 200 });
    expect(one.seen).toHaveLength(4);

    // Back in rotation after the cooldown: tried again (and, still refusing, out again).
    clock.now += 5_000;
    expect(pool.inRotation()).toEqual([dead, one.url]);
    expect(await send(pool)).toMatchObject({ status: 200 });
    expect(await send(pool)).toMatchObject({ status: 200 });
    expect(downs).toEqual([dead, dead]);
    expect(one.seen).toHaveLength(6);
  });

  it('sends the same body bytes once to the replica that received the request, POST included', async () => {
    const { pool } = poolOf([dead, one.url]);
    const bytes = Buffer.from('{"a":1,"b":[0,255]}');
    const answer = await send(pool, {
      method: 'POST',
      path: '/claims',
      headers: { 'content-type': 'application/json', 'content-length': String(bytes.length) },
      body: new RawBody(bytes),
    });
    expect(answer).toMatchObject({ status: 200 });
    expect(one.seen).toEqual([expect.objectContaining({ method: 'POST', url: '/claims', body: bytes.toString() })]);
  });

  it('answers 503-worthy errors only once every replica refused, trying each once', async () => {
    const otherDead = await unusedUrl();
    const { pool, downs } = poolOf([dead, otherDead]);
    const answer = await send(pool);
    expect(answer).toMatchObject({ error: { code: 'ECONNREFUSED' } });
    expect(downs.sort()).toEqual([dead, otherDead].sort());
    // Every replica out of rotation: the next request still tries one (it may be back), not none, and
    // only one: the one due back soonest (with every replica down, one connect attempt per request).
    const sent = vi.spyOn(Pool.prototype, 'request');
    try {
      expect(await send(pool)).toMatchObject({ error: { code: 'ECONNREFUSED' } });
      expect(sent).toHaveBeenCalledTimes(1);
    } finally {
      sent.mockRestore();
    }
  });

  it('never sends again a request a replica may have received, whatever the method, unless idempotent by its key', async () => {
    for (const method of ['GET', 'POST'] as const) {
      const { pool, downs } = poolOf([url(dropper), one.url]);
      const answer = await send(pool, { method, body: method === 'POST' ? Buffer.from('{}') : undefined });
      expect(answer, method).toMatchObject({ error: expect.any(Error) });
      expect(isConnectFailure((answer as { error: Error }).error), method).toBe(false);
      expect(dropped, method).toBe(1);
      expect(one.seen, method).toHaveLength(0);
      expect(downs, method).toEqual([]);
      dropped = 0;
    }
  });

  it('sends a request that is idempotent by its key, dropped unanswered, to another replica: each at most once', async () => {
    const keyed = (request: { headers: unknown }) => (request.headers as Record<string, unknown>)['idempotency-key'] === 'k1';
    const bytes = Buffer.from('{"tap":1}');
    const post = (key: string) => ({
      method: 'POST' as const,
      path: '/events/e1/claims',
      headers: { 'idempotency-key': key, 'content-length': String(bytes.length) },
      body: new RawBody(bytes),
    });
    const { pool, downs, resent } = poolOf([url(dropper), one.url], { mayResendAfterDrop: keyed });
    expect(await send(pool, post('k1'))).toMatchObject({ status: 200 });
    expect(dropped).toBe(1);
    expect(resent).toEqual([url(dropper)]);
    // The dropping replica still accepts connections: it stays in rotation.
    expect(downs).toEqual([]);
    expect(one.seen).toEqual([expect.objectContaining({ method: 'POST', url: '/events/e1/claims', body: bytes.toString() })]);
    expect(one.seen[0]?.headers['idempotency-key']).toBe('k1');
    // Marked as resent, so that the replica answers for the key instead of shedding it (503: nothing recorded).
    expect(one.seen[0]?.headers[RESENT_AFTER_DROP_HEADER]).toBe('1');
    // A request received by the first replica it was sent to carries no such mark.
    const direct = poolOf([one.url], { mayResendAfterDrop: keyed });
    expect(await send(direct.pool, post('k1'))).toMatchObject({ status: 200 });
    expect(one.seen[1]?.headers[RESENT_AFTER_DROP_HEADER]).toBeUndefined();
    one.seen.length = 1;

    // The predicate says no (another key here): the drop is the answer, nothing is sent again.
    dropped = 0;
    const other = poolOf([url(dropper), one.url], { mayResendAfterDrop: keyed });
    expect(await send(other.pool, post('k2'))).toMatchObject({ error: expect.any(Error) });
    expect(dropped).toBe(1);
    expect(one.seen).toHaveLength(1);

    // Every replica drops it: each is tried once, then the caller gets the error.
    dropped = 0;
    const dropping = poolOf([url(dropper), url(secondDropper)], { mayResendAfterDrop: keyed });
    expect(await send(dropping.pool, post('k1'))).toMatchObject({ error: expect.any(Error) });
    expect(dropped).toBe(2);
    expect(dropping.resent).toHaveLength(1);

    // Dropped, then refused by the only other replica: the caller is told of the drop (the request may
    // have been acted on), not of the refusal (which would say it never was: a 503 instead of a 502).
    dropped = 0;
    const refusing = poolOf([url(dropper), dead], { mayResendAfterDrop: keyed });
    const answer = await send(refusing.pool, post('k1'));
    expect(answer).toMatchObject({ error: expect.any(Error) });
    expect(isDroppedWithoutAnswer((answer as { error: Error }).error)).toBe(true);
    expect(dropped).toBe(1);
    expect(refusing.downs).toEqual([dead]);

    // Dropped, then no connection could be opened to the other replica at all (the gateway out of file
    // descriptors): the caller is told of the drop, not "nothing was sent", and that replica stays in rotation.
    dropped = 0;
    const onePort = Number(new URL(one.url).port);
    const connect = net.connect.bind(net);
    const outOfFiles = vi.spyOn(net, 'connect').mockImplementation(((...args: Parameters<typeof net.connect>) => {
      const [options] = args as unknown as [{ port?: number | string }];
      if (typeof options === 'object' && Number(options.port) === onePort) {
        throw Object.assign(new Error('connect EMFILE'), { code: 'EMFILE' });
      }
      return connect(...args);
    }) as typeof net.connect);
    try {
      const starved = poolOf([url(dropper), one.url], { mayResendAfterDrop: keyed });
      const told = await send(starved.pool, post('k1'));
      expect(told).toMatchObject({ error: expect.any(Error) });
      expect(isDroppedWithoutAnswer((told as { error: Error }).error)).toBe(true);
      expect(dropped).toBe(1);
      expect(outOfFiles).toHaveBeenCalled();
      expect(starved.downs).toEqual([]);
    } finally {
      outOfFiles.mockRestore();
    }

    // Dropped, then received by a replica that does not answer in time: that replica's timeout is the answer.
    dropped = 0;
    const slow = poolOf([url(dropper), url(silent)], { mayResendAfterDrop: keyed, timeoutMs: 200 });
    const late = await send(slow.pool, post('k1'));
    expect(late).toMatchObject({ error: { code: 'UND_ERR_HEADERS_TIMEOUT' } });
    expect(dropped).toBe(1);
  });

  // Replica A refused (it was killed) and is back, but still in its cooldown; then replica B fails. The
  // clock stands still, so A stays in its cooldown however long the test takes.
  it('sends a request a refusing replica never received to a replica still in its cooldown when no other is in rotation', async () => {
    const clock = { now: 1_000_000 };
    const goingDown = createServer((request) => {
      request.resume();
      request.on('end', () => request.socket.destroy());
    });
    await new Promise<void>((resolve) => goingDown.listen(0, '127.0.0.1', resolve));
    const b = url(goingDown);
    const restarted = new FakeUpstream();
    const a = await unusedUrl();
    try {
      const { pool, downs } = poolOf([a, b], { now: () => clock.now });
      // A refuses and leaves the rotation; B receives the request and drops it (a GET: not sent again).
      expect(await send(pool)).toMatchObject({ error: expect.any(Error) });
      await restarted.start({ port: Number(new URL(a).port) });
      // B is killed: it refuses. A is back, in its cooldown.
      await new Promise((resolve) => goingDown.close(resolve));
      expect(pool.inRotation()).toEqual([b]);
      expect(await send(pool, { path: '/after' })).toMatchObject({ status: 200 });
      expect(downs).toEqual([a, b]);
      expect(restarted.seen.map((request) => request.url)).toEqual(['/after']);
    } finally {
      if (goingDown.listening) goingDown.close();
      await restarted.stop();
    }
  });

  it('sends a keyed request a replica dropped to a replica still in its cooldown when no other is in rotation', async () => {
    const clock = { now: 1_000_000 };
    const keyed = (request: { headers: unknown }) =>
      (request.headers as Record<string, unknown> | undefined)?.['idempotency-key'] === 'k1';
    const restarted = new FakeUpstream();
    const a = await unusedUrl();
    try {
      const { pool, downs, resent } = poolOf([a, url(dropper)], { mayResendAfterDrop: keyed, now: () => clock.now });
      // A refuses and leaves the rotation; the dropper receives the request and drops it (no key: not sent again).
      expect(await send(pool)).toMatchObject({ error: expect.any(Error) });
      await restarted.start({ port: Number(new URL(a).port) });
      expect(pool.inRotation()).toEqual([url(dropper)]);
      // The dropper crashes on a keyed claim: A, back though in its cooldown, answers for the key.
      const claim = {
        method: 'POST' as const,
        path: '/events/e1/claims',
        headers: { 'idempotency-key': 'k1' },
        body: Buffer.from('{}'),
      };
      expect(await send(pool, claim)).toMatchObject({ status: 200 });
      expect(dropped).toBe(2);
      expect(resent).toEqual([url(dropper)]);
      expect(downs).toEqual([a]);
      expect(restarted.seen).toEqual([expect.objectContaining({ method: 'POST', url: '/events/e1/claims' })]);
      expect(restarted.seen[0]?.headers[RESENT_AFTER_DROP_HEADER]).toBe('1');
    } finally {
      await restarted.stop();
    }
  });

  it('gives a request sent again after a drop only what is left of its time, and none once it is up', async () => {
    const keyed = () => true;
    // The clock moves by `spent` while the first replica holds the request, then that replica drops it.
    const clock = { now: 1_000_000, spent: 0 };
    const slowDropper = createServer((request) => {
      request.resume();
      request.on('end', () => {
        clock.now += clock.spent;
        request.socket.destroy();
      });
    });
    await new Promise<void>((resolve) => slowDropper.listen(0, '127.0.0.1', resolve));
    try {
      const post = {
        method: 'POST' as const,
        path: '/events/e1/claims',
        headers: { 'idempotency-key': 'k1' },
        body: Buffer.from('{}'),
      };
      // 50 ms of a minute left: the replica that does not answer gets those 50 ms, not another minute.
      clock.spent = 59_950;
      const first = poolOf([url(slowDropper), url(silent)], {
        mayResendAfterDrop: keyed,
        timeoutMs: 60_000,
        now: () => clock.now,
      });
      expect(await send(first.pool, post)).toMatchObject({ error: { code: 'UND_ERR_HEADERS_TIMEOUT' } });
      expect(first.resent).toEqual([url(slowDropper)]);
      // Sent on with 50 ms left, its silence says nothing of the replica: it stays in rotation.
      expect(first.downs).toEqual([]);

      // No time left: not sent again; the caller is told of the drop (the request may have been acted on).
      clock.spent = 60_000;
      const second = poolOf([url(slowDropper), one.url], { mayResendAfterDrop: keyed, timeoutMs: 60_000, now: () => clock.now });
      const answer = await send(second.pool, post);
      expect(isDroppedWithoutAnswer((answer as { error: Error }).error)).toBe(true);
      expect(second.resent).toEqual([]);
      expect(one.seen).toEqual([]);
    } finally {
      await closeNow(slowDropper);
    }
  });

  it("leaves a replica that answered nothing for a request's whole time out of rotation (stopped or frozen), not one that answered others meanwhile", async () => {
    // Frozen: it holds the request and answers nothing; it leaves the rotation, and the next requests go to the other.
    const frozen = poolOf([url(silent), one.url], { timeoutMs: 100 });
    expect(await send(frozen.pool)).toMatchObject({ error: { code: 'UND_ERR_HEADERS_TIMEOUT' } });
    expect(frozen.downs).toEqual([url(silent)]);
    expect(frozen.pool.inRotation()).toEqual([one.url]);
    for (let index = 0; index < 3; index++) expect(await send(frozen.pool)).toMatchObject({ status: 200 });
    expect(one.seen).toHaveLength(3);

    // Slow on one request, answering another while it waits: it stays in rotation.
    const slowOnOne = createServer((request, response) => {
      request.resume();
      if (request.url !== '/slow') response.end('ok');
    });
    await new Promise<void>((resolve) => slowOnOne.listen(0, '127.0.0.1', resolve));
    try {
      // Its timeout is long enough for the other answer to come first on a busy machine: only the order matters.
      const slow = poolOf([url(slowOnOne)], { timeoutMs: 5_000 });
      const waiting = send(slow.pool, { path: '/slow' });
      expect(await send(slow.pool, { path: '/fast' })).toMatchObject({ status: 200, text: 'ok' });
      expect(await waiting).toMatchObject({ error: { code: 'UND_ERR_HEADERS_TIMEOUT' } });
      expect(slow.downs).toEqual([]);
      expect(slow.pool.inRotation()).toEqual([url(slowOnOne)]);
    } finally {
      await closeNow(slowOnOne);
    }
  });

  it('never sends a frozen replica a request past its cooldown, probes it until it answers, then takes it back', async () => {
    const replica = await sleeper();
    try {
      let clock = 1_000;
      const frozen = poolOf([replica.url, one.url], { timeoutMs: 100, cooldownMs: 50, probeTimeoutMs: 100, now: () => clock });
      expect(await send(frozen.pool)).toMatchObject({ error: { code: 'UND_ERR_HEADERS_TIMEOUT' } });
      expect(frozen.downs).toEqual([replica.url]);
      expect(frozen.frozenDowns).toEqual([replica.url]);
      // Long past its cooldown (the pool's clock): still out, and every request goes to the other replica.
      clock += 60_000;
      expect(frozen.pool.inRotation()).toEqual([one.url]);
      for (let index = 0; index < 4; index++) expect(await send(frozen.pool)).toMatchObject({ status: 200 });
      expect(one.seen).toHaveLength(4);
      // It was asked /health at once, and again after each unanswered probe; never sent another request.
      await until(() => expect(replica.seen.filter((path) => path === '/health').length).toBeGreaterThanOrEqual(2));
      expect(replica.seen.filter((path) => path !== '/health')).toEqual(['/x']);
      expect(frozen.backs).toEqual([]);

      // It wakes: the next probe is answered, and it is back in rotation.
      replica.state.asleep = false;
      await until(() => expect(frozen.backs).toEqual([replica.url]));
      expect(frozen.pool.inRotation()).toEqual([replica.url, one.url]);
      const answers = [await send(frozen.pool), await send(frozen.pool)];
      expect(answers).toMatchObject([{ status: 200 }, { status: 200 }]);
      expect(replica.seen.filter((path) => path === '/x')).toHaveLength(2);
    } finally {
      await replica.close();
    }
  });

  it('answers at once, sending nothing, while every replica is frozen; a request the frozen one held, answered late, takes it back', async () => {
    const replica = await sleeper();
    try {
      // A cooldown longer than the test: no second probe; the first stays unanswered.
      const frozen = poolOf([replica.url], { timeoutMs: 100, cooldownMs: 600_000, probeTimeoutMs: 600_000 });
      // A request it holds with a long wait of its own, then one that waits its whole time: frozen.
      const held = send(frozen.pool, { path: '/held', headersTimeout: 600_000 });
      expect(await send(frozen.pool)).toMatchObject({ error: { code: 'UND_ERR_HEADERS_TIMEOUT' } });
      expect(frozen.downs).toEqual([replica.url]);
      await until(() => expect(replica.seen).toContain('/health'));
      expect(await send(frozen.pool)).toMatchObject({ error: { code: 'GW_NO_REPLICA' } });
      expect(replica.seen.filter((path) => path !== '/health')).toEqual(['/held', '/x']);

      // It answers the request it held: it runs again, and is back without waiting for a probe.
      replica.state.asleep = false;
      replica.answer('/held');
      expect(await held).toMatchObject({ status: 200 });
      expect(frozen.backs).toEqual([replica.url]);
      expect(frozen.pool.inRotation()).toEqual([replica.url]);
      expect(await send(frozen.pool)).toMatchObject({ status: 200 });
    } finally {
      await replica.close();
    }
  });

  it('keeps a frozen replica out while its probe is answered with an error (its store hangs), and takes it back on a 2xx', async () => {
    const replica = await sleeper();
    try {
      // Its /health answers 503 at once while every other request it gets waits (a store that hangs).
      replica.state.health = 503;
      const frozen = poolOf([replica.url, one.url], { timeoutMs: 100, cooldownMs: 50, probeTimeoutMs: 100 });
      expect(await send(frozen.pool)).toMatchObject({ error: { code: 'UND_ERR_HEADERS_TIMEOUT' } });
      expect(frozen.downs).toEqual([replica.url]);
      // Its probes are answered, 503 each time: still out, never sent a request.
      await until(() => expect(replica.seen.filter((path) => path === '/health').length).toBeGreaterThanOrEqual(3));
      expect(frozen.backs).toEqual([]);
      expect(frozen.pool.inRotation()).toEqual([one.url]);
      for (let index = 0; index < 4; index++) expect(await send(frozen.pool)).toMatchObject({ status: 200 });
      expect(replica.seen.filter((path) => path !== '/health')).toEqual(['/x']);

      // Its store answers again: /health 200, and it is back.
      replica.state.health = 200;
      await until(() => expect(frozen.backs).toEqual([replica.url]));
      expect(frozen.pool.inRotation()).toEqual([replica.url, one.url]);
    } finally {
      await replica.close();
    }
  });

  it('keeps a probe waiting on a frozen replica, so that it is back the moment it runs again, not a cooldown later', async () => {
    const replica = await sleeper();
    try {
      // The only replica (the default deployment), with a cooldown longer than the test.
      const frozen = poolOf([replica.url], { timeoutMs: 100, cooldownMs: 600_000, probeTimeoutMs: 100, probeIntervalMs: 10 });
      expect(await send(frozen.pool)).toMatchObject({ error: { code: 'UND_ERR_HEADERS_TIMEOUT' } });
      // Each probe it leaves unanswered is followed by the next at once, not a cooldown later.
      await until(() => expect(replica.seen.filter((path) => path === '/health').length).toBeGreaterThanOrEqual(3));
      expect(await send(frozen.pool)).toMatchObject({ error: { code: 'GW_NO_REPLICA' } });

      // It runs again: it answers the probe it holds (or the next), and is back.
      replica.state.asleep = false;
      replica.answer('/health');
      await until(() => expect(frozen.backs).toEqual([replica.url]));
      expect(await send(frozen.pool)).toMatchObject({ status: 200 });
    } finally {
      await replica.close();
    }
  });

  it('takes back a frozen replica restarted on its port without waiting out a cooldown', async () => {
    const replica = await sleeper();
    const port = new URL(replica.url).port;
    const restarted = createServer((request, response) => {
      request.resume();
      response.end('ok');
    });
    try {
      const frozen = poolOf([replica.url], { timeoutMs: 100, cooldownMs: 600_000, probeTimeoutMs: 600_000, probeIntervalMs: 10 });
      expect(await send(frozen.pool)).toMatchObject({ error: { code: 'UND_ERR_HEADERS_TIMEOUT' } });
      await until(() => expect(replica.seen).toContain('/health'));
      // Killed (the probe it held is reset, its port refuses), then started again on the same port.
      await replica.close();
      await new Promise<void>((resolve) => restarted.listen(Number(port), '127.0.0.1', resolve));
      await until(async () => expect(await send(frozen.pool)).toMatchObject({ status: 200 }));
      expect(frozen.backs).toEqual([replica.url]);
    } finally {
      await closeNow(restarted);
    }
  });

  it('probes a frozen replica that refuses or drops each probe at once at most once per probe interval, whatever the cooldown', async () => {
    const replica = await sleeper();
    try {
      const frozen = poolOf([replica.url, one.url], { timeoutMs: 100, cooldownMs: 0, probeTimeoutMs: 100, probeIntervalMs: 100 });
      replica.state.health = 'reset';
      expect(await send(frozen.pool)).toMatchObject({ error: { code: 'UND_ERR_HEADERS_TIMEOUT' } });
      const first = performance.now();
      await until(() => expect(replica.seen.filter((path) => path === '/health').length).toBeGreaterThanOrEqual(5));
      // Five probes, each dropped at once, began at least four intervals apart in all (a cooldown of 0 s
      // would have them back to back: hundreds a second).
      expect(performance.now() - first).toBeGreaterThanOrEqual(4 * 100 - 20);
      expect(frozen.backs).toEqual([]);
    } finally {
      await replica.close();
    }
  });

  it('answers a request that waited to be sent (no connection free) when its time is up, not once it is sent and timed', async () => {
    const replica = await sleeper();
    try {
      // One connection, held by a request with a long time of its own: the next waits in the pool, unsent.
      const { pool, downs } = poolOf([replica.url], { timeoutMs: 200, maxConnections: 1, probeTimeoutMs: 600_000 });
      const first = send(pool, { path: '/first', headersTimeout: 600_000 });
      await until(() => expect(replica.seen).toEqual(['/first']));
      // undici's own headers timeout starts only once a request is written: without the pool's deadline, this
      // one would wait for the first's answer (600 s) and then 200 ms more.
      expect(await send(pool, { path: '/second' })).toMatchObject({ error: { code: 'UND_ERR_HEADERS_TIMEOUT' } });
      expect(replica.seen).toEqual(['/first']);
      // The replica answered nothing for the request's whole time: out of rotation, as after undici's own timeout.
      expect(downs).toEqual([replica.url]);
      // Once the first is answered (which takes the replica back), the second is sent after all (a write would
      // be refused there for its start-by time); its late answer is read and dropped, and the connection serves on.
      replica.state.asleep = false;
      replica.answer('/first');
      expect(await first).toMatchObject({ status: 200 });
      expect(await send(pool, { path: '/third' })).toMatchObject({ status: 200 });
      expect(replica.seen.filter((path) => path !== '/health')).toEqual(['/first', '/second', '/third']);
    } finally {
      await replica.close();
    }
  });

  it('does not send a request on to another replica once its time is up, even one the first never received', async () => {
    const clock = { now: 1_000_000 };
    const pool = new ReplicaPool({
      origins: [dead, one.url],
      cooldownMs: 5_000,
      connectTimeoutMs: 1_000,
      timeoutMs: 60_000,
      now: () => clock.now,
      // The refusal is learnt only when the request's whole time is spent (a connect that hung, say).
      onReplicaDown: () => {
        clock.now += 60_000;
      },
    });
    pools.push(pool);
    expect(await send(pool)).toMatchObject({ error: { code: 'ECONNREFUSED' } });
    expect(one.seen).toEqual([]);
  });

  it('counts a closed or reset connection (not a timeout) as "dropped without an answer"', () => {
    for (const code of ['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']) {
      expect(isDroppedWithoutAnswer(Object.assign(new Error(code), { code })), code).toBe(true);
    }
    for (const code of ['ECONNREFUSED', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_ABORTED', undefined]) {
      expect(isDroppedWithoutAnswer(Object.assign(new Error(String(code)), { code })), String(code)).toBe(false);
    }
  });

  it('counts only connect-phase errors as "never received"', () => {
    for (const code of ['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']) {
      expect(isConnectFailure(Object.assign(new Error(code), { code })), code).toBe(true);
    }
    for (const code of ['ECONNRESET', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'EPIPE', undefined]) {
      expect(isConnectFailure(Object.assign(new Error(String(code)), { code })), String(code)).toBe(false);
    }
  });
});

describe('ReplicaPool with an origin named by a host name (a Compose service: one name, an address per replica)', () => {
  // Two servers on one port at two loopback addresses: the addresses a service name resolves to.
  const [first, second] = [new FakeUpstream(), new FakeUpstream()];
  let port: number;
  let name: string;
  /** What the fake resolver answers for the name now: addresses, or an error code. */
  let answer: string[] | string;
  const lookedUp: string[] = [];
  const lookup = async (hostname: string): Promise<string[]> => {
    lookedUp.push(hostname);
    if (typeof answer === 'string') throw Object.assign(new Error(`getaddrinfo ${answer} ${hostname}`), { code: answer });
    return answer;
  };

  beforeAll(async () => {
    await first.start();
    port = first.port;
    await second.start({ host: '127.0.0.2', port });
    name = `http://event-server.test:${port}`;
  });

  afterEach(() => {
    first.seen.length = 0;
    second.seen.length = 0;
    lookedUp.length = 0;
  });

  afterAll(async () => {
    await Promise.all([first.stop(), second.stop()]);
  });

  function namedPool(origins: string[], resolveIntervalMs = 60_000) {
    const resolved: Array<{ origin: string; replicas: readonly string[]; code?: unknown }> = [];
    const downs: string[] = [];
    const pool = new ReplicaPool({
      origins,
      cooldownMs: 5_000,
      connectTimeoutMs: 1_000,
      timeoutMs: 5_000,
      resolveIntervalMs,
      lookup,
      onReplicaDown: (origin) => downs.push(origin),
      onResolved: (origin, replicas, error) =>
        resolved.push({ origin, replicas, ...(error && { code: (error as { code?: unknown }).code }) }),
    });
    pools.push(pool);
    return { pool, resolved, downs };
  }

  it('sends a keyed request dropped after its name resolved again to the replicas the name has now', async () => {
    // Two replicas of a service that read the request and hold it, then drop it when told to (crashed).
    const holding: Array<() => void> = [];
    let heldOne!: () => void;
    const oneHeld = new Promise<void>((resolve) => (heldOne = resolve));
    const hold = (request: IncomingMessage): void => {
      request.resume();
      request.on('end', () => {
        holding.push(() => request.socket.destroy());
        heldOne();
      });
    };
    const [third, fourth] = [createServer(hold), createServer(hold)];
    await new Promise<void>((resolve) => third.listen(0, '127.0.0.3', resolve));
    const servicePort = (third.address() as AddressInfo).port;
    await new Promise<void>((resolve) => fourth.listen(servicePort, '127.0.0.4', resolve));
    const fifth = new FakeUpstream();
    await fifth.start({ host: '127.0.0.5', port: servicePort });
    let addresses = ['127.0.0.3', '127.0.0.4'];
    const pool = new ReplicaPool({
      origins: [`http://claims.test:${servicePort}`],
      cooldownMs: 5_000,
      connectTimeoutMs: 1_000,
      timeoutMs: 5_000,
      resolveIntervalMs: 600_000,
      lookup: async () => addresses,
      mayResendAfterDrop: () => true,
      sameReplicaPerKey: true,
    });
    pools.push(pool);
    try {
      await pool.resolveNames();
      const pending = send(pool, { method: 'POST', path: '/k', headers: { 'idempotency-key': 'k-1' }, body: '' });
      await oneHeld;
      // The service is redeployed: its name now gives a new replica, and the old one drops what it held.
      addresses = ['127.0.0.5'];
      await pool.resolveNames();
      for (const drop of holding) drop();
      expect(await pending).toMatchObject({ status: 200 });
      expect(fifth.seen.map((seen) => seen.url)).toEqual(['/k']);
    } finally {
      for (const server of [third, fourth]) await closeNow(server);
      await fifth.stop();
    }
  });

  it('takes turns over every address the name resolves to, and follows the name as its addresses change', async () => {
    answer = ['127.0.0.1'];
    const { pool, resolved } = namedPool([name]);
    await pool.resolveNames();
    expect(pool.inRotation()).toEqual([`http://127.0.0.1:${port}`]);
    for (let index = 0; index < 2; index++) expect(await send(pool)).toMatchObject({ status: 200 });
    expect([first.seen.length, second.seen.length]).toEqual([2, 0]);

    // A second replica starts (docker compose up --scale event-server=2): it joins the rotation.
    answer = ['127.0.0.2', '127.0.0.1'];
    await pool.resolveNames();
    expect(pool.inRotation()).toEqual([`http://127.0.0.1:${port}`, `http://127.0.0.2:${port}`]);
    for (let index = 0; index < 4; index++) expect(await send(pool, { path: `/n/${index}` })).toMatchObject({ status: 200 });
    expect([first.seen.length, second.seen.length]).toEqual([4, 2]);

    // The resolver fails for a while: the replicas stay as they were, and the failure is told once.
    answer = 'EAI_AGAIN';
    await pool.resolveNames();
    await pool.resolveNames();
    expect(pool.inRotation()).toEqual([`http://127.0.0.1:${port}`, `http://127.0.0.2:${port}`]);

    // The first replica is gone (stopped, its name withdrawn): only the second is sent to.
    answer = ['127.0.0.2'];
    await pool.resolveNames();
    expect(pool.inRotation()).toEqual([`http://127.0.0.2:${port}`]);
    for (let index = 0; index < 3; index++) expect(await send(pool)).toMatchObject({ status: 200 });
    expect([first.seen.length, second.seen.length]).toEqual([4, 5]);
    expect(resolved).toEqual([
      { origin: name, replicas: [`http://127.0.0.1:${port}`] },
      { origin: name, replicas: [`http://127.0.0.1:${port}`, `http://127.0.0.2:${port}`] },
      { origin: name, replicas: [`http://127.0.0.1:${port}`, `http://127.0.0.2:${port}`], code: 'EAI_AGAIN' },
      { origin: name, replicas: [`http://127.0.0.2:${port}`] },
    ]);
  });

  it('leaves an address that refuses connections out of rotation and sends its request to another', async () => {
    // 127.0.0.3: nothing listens there (a replica that died, its address not yet withdrawn).
    answer = ['127.0.0.3', '127.0.0.1'];
    const { pool, downs } = namedPool([name]);
    await pool.resolveNames();
    for (let index = 0; index < 4; index++) expect(await send(pool)).toMatchObject({ status: 200 });
    expect(first.seen).toHaveLength(4);
    expect(downs).toEqual([`http://127.0.0.3:${port}`]);
    expect(pool.inRotation()).toEqual([`http://127.0.0.1:${port}`]);
  });

  it('resolves names on its own every interval, and only names: not addresses, localhost or https origins', async () => {
    answer = ['127.0.0.2'];
    const { pool } = namedPool([name, `http://127.0.0.1:${port}`, `http://localhost:${port}`, `https://auth.test:${port}`], 20);
    while (!pool.inRotation().includes(`http://127.0.0.2:${port}`)) await new Promise((resolve) => setTimeout(resolve, 5));
    const before = lookedUp.length;
    while (lookedUp.length === before) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(new Set(lookedUp)).toEqual(new Set(['event-server.test']));
    expect(pool.inRotation()).toEqual([
      `http://127.0.0.2:${port}`,
      `http://127.0.0.1:${port}`,
      `http://localhost:${port}`,
      `https://auth.test:${port}`,
    ]);
  });

  it('sends to the name as it stands until it first resolves, and never expands it with an interval of 0', async () => {
    answer = ['127.0.0.2'];
    const { pool } = namedPool([`http://localhost:${port}`, name], 0);
    await pool.resolveNames();
    expect(lookedUp).toEqual([]);
    expect(pool.inRotation()).toEqual([`http://localhost:${port}`, name]);
  });

  it('counts a server with an IPv4 and an IPv6 address once (IPv6 only for a name without IPv4)', async () => {
    answer = ['127.0.0.1', '::1', '127.0.0.1'];
    const { pool } = namedPool([name]);
    await pool.resolveNames();
    expect(pool.inRotation()).toEqual([`http://127.0.0.1:${port}`]);
    answer = ['::1'];
    await pool.resolveNames();
    expect(pool.inRotation()).toEqual([`http://[::1]:${port}`]);
  });

  it('ends the requests of a replica that left the rotation when the pool is destroyed (the gateway closing)', async () => {
    answer = ['127.0.0.1'];
    const { pool } = namedPool([name]);
    await pool.resolveNames();
    first.answer = () => ({ delayMs: 3_000 });
    try {
      const pending = send(pool, { path: '/slow' });
      while (first.seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      // Its address is withdrawn while the request is under way: the replica leaves, its request goes on.
      answer = ['127.0.0.2'];
      await pool.resolveNames();
      expect(pool.inRotation()).toEqual([`http://127.0.0.2:${port}`]);
      await pool.destroy();
      expect(await pending).toMatchObject({ error: { code: 'UND_ERR_DESTROYED' } });
    } finally {
      first.answer = () => undefined;
    }
  });

  it('resolves a real name with the system resolver', async () => {
    expect(await systemLookup('localhost')).toContain('127.0.0.1');
  });
});

/** A gateway whose event replicas are the dropping one, then a live one (round robin starts with the dropper). */
async function withDroppingFirst(test: (gateway: string) => Promise<void>): Promise<void> {
  const { app, url: gateway } = await startGateway({ auth: auth.url, event: `${url(dropper)},${one.url}`, jwks: auth.url });
  try {
    await test(gateway);
  } finally {
    await app.close();
  }
}

describe('the gateway with several replicas per upstream', () => {
  let app: NestFastifyApplication;
  let gateway: string;

  beforeAll(async () => {
    ({ app, url: gateway } = await startGateway({ auth: auth.url, event: `${one.url},${dead},${two.url}`, jwks: auth.url }));
  });

  afterAll(async () => {
    await app.close();
  });

  it('spreads requests over the live replicas and answers every one, a refusing replica notwithstanding', async () => {
    const headers = { authorization: `Bearer ${signer.sign({ roles: ['USER'] })}`, 'content-type': 'application/json' };
    const answers = [];
    for (let index = 0; index < 6; index++) answers.push(await rawRequest(gateway, 'GET', `/events/e${index}`, { headers }));
    answers.push(await rawRequest(gateway, 'POST', '/events/e6/claims', { headers, body: '{"x":1}' }));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 200, 200]);
    expect(one.seen.length + two.seen.length).toBe(7);
    expect(one.seen.length).toBeGreaterThanOrEqual(2);
    expect(two.seen.length).toBeGreaterThanOrEqual(2);
    expect([...one.seen, ...two.seen].filter((seen) => seen.method === 'POST')).toEqual([
      expect.objectContaining({ url: '/events/e6/claims', body: '{"x":1}' }),
    ]);
  });

  it('answers 502 (not a retry) when a replica drops a request it received', async () => {
    await withDroppingFirst(async (otherGateway) => {
      // A player whose claims go to the dropping replica (each player's to its own replica).
      const sub = Array.from({ length: 100 }, (_, index) => `player-${index}`).find(
        (each) => firstOf(each, [url(dropper), one.url]) === 0,
      )!;
      const headers = { authorization: `Bearer ${signer.sign({ sub, roles: ['USER'] })}`, 'content-type': 'application/json' };
      const answer = await rawRequest(otherGateway, 'POST', '/events/e1/claims', { headers, body: '{}' });
      expect(answer.status).toBe(502);
      expect(answer.json()).toMatchObject({ statusCode: 502, code: 'UPSTREAM_ERROR' });
      expect(dropped).toBe(1);
      expect(one.seen).toHaveLength(0);
    });
  });

  it('sends a claim with an Idempotency-Key that a replica dropped unanswered to another replica (only there)', async () => {
    await withDroppingFirst(async (otherGateway) => {
      // A player whose claims go to the dropping replica first (the gateway sends each player's to its own replica).
      const sub = Array.from({ length: 100 }, (_, index) => `player-${index}`).find(
        (each) => firstOf(each, [url(dropper), one.url]) === 0,
      )!;
      const user = { authorization: `Bearer ${signer.sign({ sub, roles: ['USER'] })}`, 'content-type': 'application/json' };
      const key = 'launch-1';
      const keyed = { ...user, 'idempotency-key': key };
      const claim = await rawRequest(otherGateway, 'POST', '/events/e1/claims', { headers: keyed, body: '{}' });
      expect(claim.status).toBe(200);
      expect(dropped).toBe(1);
      expect(one.seen).toEqual([expect.objectContaining({ method: 'POST', url: '/events/e1/claims' })]);
      expect(one.seen[0]?.headers['idempotency-key']).toBe(key);

      // A route whose upstream does not honour the key: the drop is answered 502, never sent again.
      const operator = {
        authorization: `Bearer ${signer.sign({ roles: ['OPERATOR'] })}`,
        'content-type': 'application/json',
        'idempotency-key': 'create-1',
      };
      // Sent until one reaches the dropping replica (round robin: within two).
      const answers = [];
      while (dropped === 1 && answers.length < 2) {
        answers.push(await rawRequest(otherGateway, 'POST', '/events', { headers: operator, body: '{}' }));
      }
      expect(dropped).toBe(2);
      expect(answers.at(-1)?.status).toBe(502);
      expect(answers.at(-1)?.json()).toMatchObject({ statusCode: 502, code: 'UPSTREAM_ERROR' });
      // The live replica saw only the /events requests answered 200 by it, not the dropped one.
      expect(one.seen.filter((seen) => seen.url === '/events')).toHaveLength(answers.filter((a) => a.status === 200).length);
    });
  });

  it('sends a review that a replica dropped unanswered to another replica: the same decision again is one decision', async () => {
    await withDroppingFirst(async (otherGateway) => {
      const operator = { authorization: `Bearer ${signer.sign({ roles: ['OPERATOR'] })}`, 'content-type': 'application/json' };
      // Sent until one reaches the dropping replica (round robin: within two); that one is answered by the other.
      const answers = [];
      while (dropped === 0 && answers.length < 2) {
        answers.push(await rawRequest(otherGateway, 'POST', '/claims/c1/approve', { headers: operator, body: '{}' }));
      }
      expect(dropped).toBe(1);
      expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
      expect(one.seen.filter((seen) => seen.url === '/claims/c1/approve')).toHaveLength(answers.length);
    });
  });

  it("sends each of a player's claims to the player's replica, whatever its key, and a client cannot choose the replica", async () => {
    // Three origins, the second refusing: a player whose first is that one goes on to its second.
    const players = Array.from({ length: 40 }, (_, index) => `player-${index}`);
    const origins = [one.url, dead, two.url];
    const live = (player: string) => (replicaOrderOfKey(player, origins).find((index) => index !== 1) === 0 ? one : two);
    const [first, second] = [players.find((p) => live(p) === one)!, players.find((p) => live(p) === two)!];
    for (const player of [first, second]) {
      const user = {
        authorization: `Bearer ${signer.sign({ sub: player, roles: ['USER'] })}`,
        'content-type': 'application/json',
      };
      const taps = [
        { ...user, 'idempotency-key': `${player}-a` },
        { ...user, 'idempotency-key': `${player}-b` },
        user,
        // A replica key of the client's own is dropped like every x-internal- header: the gateway sets its own.
        { ...user, 'idempotency-key': `${player}-c`, [REPLICA_KEY_HEADER]: first === player ? second : first },
      ];
      for (const headers of taps) {
        expect((await rawRequest(gateway, 'POST', `/events/${player}/claims`, { headers, body: '{}' })).status).toBe(200);
      }
    }
    for (const player of [first, second]) {
      const own = live(player);
      const other = own === one ? two : one;
      const claims = own.seen.filter((seen) => seen.url === `/events/${player}/claims`);
      expect(claims, player).toHaveLength(4);
      expect(
        claims.map((seen) => seen.headers[REPLICA_KEY_HEADER]),
        player,
      ).toEqual([player, player, player, player]);
      expect(
        other.seen.filter((seen) => seen.url === `/events/${player}/claims`),
        player,
      ).toEqual([]);
    }
    // Reads carry no replica key and take turns.
    const reader = { authorization: `Bearer ${signer.sign({ sub: first, roles: ['USER'] })}` };
    for (let index = 0; index < 4; index++) await rawRequest(gateway, 'GET', `/events/r${index}`, { headers: reader });
    const reads = [...one.seen, ...two.seen].filter((seen) => seen.url?.startsWith('/events/r'));
    expect(reads.every((seen) => seen.headers[REPLICA_KEY_HEADER] === undefined)).toBe(true);
    expect(one.seen.filter((seen) => seen.url?.startsWith('/events/r')).length).toBeGreaterThanOrEqual(1);
    expect(two.seen.filter((seen) => seen.url?.startsWith('/events/r')).length).toBeGreaterThanOrEqual(1);
  });
});
