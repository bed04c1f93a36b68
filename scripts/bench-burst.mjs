#!/usr/bin/env node
// npm run bench:burst — an event's launch through the real stack: the auth server, one or two event-server
// replicas and the gateway each run as a process of their own (built dist/, as deployed), on MONGODB_URI.
// PLAYERS players tap twice at once for a reward of stock STOCK; each player retries what was not final
// (503/429 honouring Retry-After, IDEMPOTENCY_IN_PROGRESS, a lost connection) with the same
// Idempotency-Key until it has a final answer. Prints the first answers by status and code, p50/p99 (also
// apart for the taps turned away 429/503 and the others), the
// time until the last player had a final answer, and the GRANTED count. Exported as benchBurst() for
// `npm run bench`; run directly: node scripts/bench-burst.mjs [--replicas 2] [--players 500] [--stock 100]
// [--kill] (SIGKILL one replica once a tenth of the stock is granted) [--readers N] (N staff readers, each
// reading the CSV export and the claim list in turn while the burst runs: whether each export came whole,
// the longest pause between its chunks, and each list's status) [--browse] (each player also opens the event,
// lists the events active at its own clock and lists its claims, as an app would: those reads' answers and times).
import { randomBytes } from 'node:crypto';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { Pool } from 'undici';
import { createClaimableEvent, fetchApi, makeEligible } from '../test-support/claimable-event.ts';
import { TokenForge } from '../test-support/tokens.ts';
import { countsPerSlot, freePort, retryAfterTally, serverProcess as startServer } from './bench-gateway.mjs';

const SELF = fileURLToPath(import.meta.url);
/** The load generator's connection pools (see send). */
const CLIENT_POOLS = 64;
/** The gateway settings of where it listens, which the environment passed on to the burst's gateway must not move. */
const GATEWAY_ADDRESS = new Set(['GATEWAY_PORT', 'GATEWAY_HOST']);

/** A built server as a child process (bench-gateway.mjs); BURST_PROFILE_DIR=dir: each writes a CPU profile there. */
function serverProcess(entry, env, port) {
  return startServer(entry, env, port, { profileDir: process.env.BURST_PROFILE_DIR });
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

export async function benchBurst({
  mongoUri,
  replicas = 1,
  players = 500,
  stock = 100,
  kill = false,
  readers = 0,
  browse = false,
} = {}) {
  if (!mongoUri) throw new Error('benchBurst needs a MongoDB URI');
  const run = `burst_${Date.now().toString(36)}_${randomBytes(2).toString('hex')}`;
  const forge = TokenForge.generate();
  const mint = (sub, roles) => forge.sign({ sub, roles }, { expiresInSeconds: 3600 });
  const children = [];
  const clients = [];
  try {
    const authPort = await freePort();
    const eventPorts = await Promise.all(Array.from({ length: replicas }, freePort));
    const gatewayPort = await freePort();
    const common = { MONGODB_URI: mongoUri };
    const auth = serverProcess(
      'auth-server/dist/main.js',
      {
        ...common,
        AUTH_PORT: String(authPort),
        AUTH_DB_NAME: `${run}_auth`,
        JWT_PRIVATE_KEY: forge.privateKeyPem,
        BCRYPT_ROUNDS: '4',
        ADMIN_EMAIL: 'burst-admin@example.com',
        ADMIN_PASSWORD: 'burst-admin-password',
        EVENT_SERVICE_URL: `http://127.0.0.1:${eventPorts[0]}`,
      },
      authPort,
    );
    children.push(auth);
    await auth.ready;
    const events = eventPorts.map((port) =>
      serverProcess(
        'event-server/dist/main.js',
        {
          ...common,
          EVENT_PORT: String(port),
          EVENT_DB_NAME: `${run}_event`,
          AUTH_JWKS_URL: `${auth.url}/.well-known/jwks.json`,
          CLAIM_RECONCILE_INTERVAL_MS: '1000',
          CLAIM_STALE_AFTER_MS: '5000',
          // Any CLAIM_* setting of this run's environment (the claim path's limits, the reconciler's timing,
          // CLAIM_HEARTBEAT_MS, ...) replaces the above, to try others.
          ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('CLAIM_'))),
        },
        port,
      ),
    );
    children.push(...events);
    await Promise.all(events.map((event) => event.ready));
    const gateway = serverProcess(
      'gateway/dist/main.js',
      {
        GATEWAY_PORT: String(gatewayPort),
        // Every player of the burst is this one address: no per-address limit (the platform's own, 1,000, answers
        // 429 with Retry-After past it: docs/design.md).
        GATEWAY_MAX_CONNECTIONS_PER_ADDRESS: '0',
        AUTH_SERVICE_URL: auth.url,
        EVENT_SERVICE_URL: events.map((event) => event.url).join(','),
        // Any GATEWAY_* or UPSTREAM_* setting of this run's environment (UPSTREAM_MAX_CONNECTIONS, ...) replaces
        // the above, to try others; but where the gateway listens: the players send to gatewayPort (a shell that
        // exported GATEWAY_PORT for its own stack, as README suggests, had the gateway listen there, never ready).
        ...Object.fromEntries(
          Object.entries(process.env).filter(([name]) => /^(GATEWAY|UPSTREAM)_/.test(name) && !GATEWAY_ADDRESS.has(name)),
        ),
      },
      gatewayPort,
    );
    children.push(gateway);
    const base = await gateway.ready;

    const admin = mint(randomBytes(12).toString('hex'), ['ADMIN']);
    const staff = async (method, path, body) => {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${admin}`, ...(body && { 'content-type': 'application/json' }) },
        body: body && JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${path} -> ${response.status} ${text.slice(0, 200)}`);
      return JSON.parse(text);
    };
    // The tests' own fixture, through the gateway: an event whose stock is the prize, and eligible players.
    const api = fetchApi(base);
    const launch = await createClaimableEvent(api, admin, {
      title: 'launch burst',
      activity: 'BURST_ELIGIBLE',
      rewards: [{ type: 'COUPON', name: 'Launch', quantity: 1, stock, couponCode: 'LAUNCH' }],
    });
    const ids = Array.from({ length: players }, () => randomBytes(12).toString('hex'));
    await makeEligible(api, admin, launch.activity, ids);
    const tokens = new Map(ids.map((id) => [id, mint(id, ['USER'])]));
    // The players' connections, spread over CLIENT_POOLS pools (undici.request, not fetch). The load generator
    // shares the machine with the servers, and what it costs is not theirs: through one pool (fetch's) each
    // request walked all of a crowd's connections for a free one, and fetch's streams cost more again; profiled
    // at 3,000 players, this process was busy throughout the first wave, so the answers waited for it too.
    const pools = Array.from({ length: CLIENT_POOLS }, () => new Pool(base));
    clients.push(...pools);
    const poolOf = new Map(ids.map((id, index) => [id, pools[index % CLIENT_POOLS]]));
    const path = `/events/${launch.id}/claims`;

    const send = async (userId, key) => {
      const started = performance.now();
      requestAt.push(started);
      try {
        const response = await poolOf.get(userId).request({
          method: 'POST',
          path,
          headers: { authorization: `Bearer ${tokens.get(userId)}`, 'idempotency-key': key },
        });
        const text = await response.body.text();
        let body;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        const retryAfter = response.headers['retry-after'];
        return {
          status: response.statusCode,
          body,
          retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
          ms: performance.now() - started,
        };
      } catch (error) {
        return { status: 0, body: { code: String(error.code ?? error.message) }, ms: performance.now() - started };
      }
    };
    const final = (reply) => [201, 409, 422].includes(reply.status) && reply.body?.code !== 'IDEMPOTENCY_IN_PROGRESS';
    const firstWave = [];
    const later = {};
    const told = {};
    let firstWaveEnd = 0;
    let granted = 0;
    let lastGrant = 0;
    const finalAt = [];
    const requestAt = [];
    let killedAt;
    let lastFinal = 0;
    const started = performance.now();
    const tap = async (userId, index) => {
      const key = `launch-${userId}-${index}`;
      let reply = await send(userId, key);
      firstWave.push(reply);
      firstWaveEnd = Math.max(firstWaveEnd, performance.now() - started);
      for (let attempt = 0; !final(reply) && attempt < 200; attempt += 1) {
        if (reply.retryAfter) told[reply.retryAfter] = (told[reply.retryAfter] ?? 0) + 1;
        // Never sooner than told (Retry-After), and up to half as long again, so that one second's crowd
        // does not come back at once (a client's own jitter); 250 ms when told nothing (a lost connection).
        const wait = reply.retryAfter ? Number(reply.retryAfter) * 1000 : 250;
        await new Promise((done) => setTimeout(done, wait * (1 + Math.random() / 2)));
        reply = await send(userId, key);
        const answer = `${reply.status} ${reply.body?.code ?? reply.body?.status ?? ''}`.trim();
        later[answer] = (later[answer] ?? 0) + 1;
      }
      if (reply.status === 201) {
        granted += 1;
        lastGrant = Math.max(lastGrant, performance.now() - started);
      }
      if (kill && killedAt === undefined && granted >= Math.ceil(stock / 10) && events.length > 1) {
        killedAt = performance.now() - started;
        events[events.length - 1].kill();
      }
      lastFinal = Math.max(lastFinal, performance.now() - started);
      if (final(reply)) finalAt.push(lastFinal);
      return reply;
    };
    let bursting = true;
    const reads = { exports: [], lists: [], store: [] };
    const reader = async () => {
      while (bursting) {
        const exported = await readExport(base, admin, `/claims/export?eventId=${launch.id}`);
        reads.exports.push(exported);
        tell('export', exported);
        if (!bursting) break;
        const listed = await readList(base, admin, `/claims?eventId=${launch.id}&limit=20`);
        reads.lists.push(listed);
        tell('list', listed);
      }
    };
    // The list's two store commands sent by a client of its own (not the event servers' connection pools):
    // how long the store itself takes to answer them meanwhile.
    const store = readers > 0 ? await new MongoClient(mongoUri).connect() : undefined;
    const storeReader = async () => {
      const claims = store.db(`${run}_event`).collection('claims');
      while (bursting) {
        const started = performance.now();
        try {
          await Promise.all([
            claims.find({ eventId: launch.id }).sort({ createdAt: -1, _id: -1 }).limit(20).toArray(),
            claims.countDocuments({ eventId: launch.id }),
          ]);
          reads.store.push({ ok: true, ms: performance.now() - started });
          tell('store', reads.store.at(-1));
        } catch {
          reads.store.push({ ok: false, ms: performance.now() - started });
        }
        // A probe a second, not a loop that would add its own load to the store it measures.
        await new Promise((done) => setTimeout(done, 1_000));
      }
    };
    // Each read as it ends, on stderr: a burst of thousands of players runs for minutes.
    const tell = (kind, read) =>
      process.stderr.write(`${((performance.now() - started) / 1000).toFixed(1)} s ${kind} ${JSON.stringify(read)}\n`);
    const readersDone = Promise.all([...Array.from({ length: readers }, reader), ...(store ? [storeReader()] : [])]).finally(() =>
      store?.close(),
    );
    // A player's app opening the event's page, the events active now (at its own clock) and its own claims as it
    // taps (browse): each read's status and time.
    const views = [];
    const view = async (userId, viewPath) => {
      const sent = performance.now();
      let status = 0;
      let code;
      try {
        const response = await poolOf.get(userId).request({
          method: 'GET',
          path: viewPath,
          headers: { authorization: `Bearer ${tokens.get(userId)}` },
        });
        status = response.statusCode;
        const text = await response.body.text();
        if (status !== 200) code = text.match(/"code":"([A-Z_]+)"/)?.[1];
      } catch (error) {
        code = String(error.code ?? error.message);
      }
      views.push({ status, code, ms: performance.now() - sent });
    };
    const browsing = browse
      ? Promise.all(
          ids.flatMap((userId) => [
            view(userId, `/events/${launch.id}`),
            view(userId, `/events?status=ACTIVE&activeAt=${encodeURIComponent(new Date().toISOString())}`),
            view(userId, '/claims/me?limit=20'),
          ]),
        )
      : Promise.resolve();
    const finals = await Promise.all(ids.flatMap((userId) => [tap(userId, 0), tap(userId, 1)]));
    await browsing;
    const wall = performance.now() - started;
    bursting = false;
    await readersDone;
    const byAnswer = {};
    for (const reply of firstWave) {
      const answer = `${reply.status} ${reply.body?.code ?? reply.body?.status ?? ''}`.trim();
      byAnswer[answer] = (byAnswer[answer] ?? 0) + 1;
    }
    const times = firstWave.map((reply) => reply.ms).sort((a, b) => a - b);
    // A turned-away tap (429/503 with Retry-After) is to be told quickly; the others waited for their decision.
    const turnedAway = (reply) => reply.status === 429 || reply.status === 503;
    const shedTimes = firstWave
      .filter(turnedAway)
      .map((reply) => reply.ms)
      .sort((a, b) => a - b);
    const decidedTimes = firstWave
      .filter((reply) => !turnedAway(reply))
      .map((reply) => reply.ms)
      .sort((a, b) => a - b);
    const grantedClaims = await staff('GET', `/claims?eventId=${launch.id}&status=GRANTED&limit=1`);
    const rewards = await staff('GET', `/events/${launch.id}/rewards`);
    return {
      replicas,
      players,
      stock,
      wallMs: wall,
      lastFinalMs: lastFinal,
      firstWaveEndMs: firstWaveEnd,
      lastGrantMs: lastGrant,
      retryAfterTold: told,
      // Final answers and requests sent, each 5 s from the start (requestAt is on the same clock).
      finalsBy5s: countsPerSlot(finalAt, 5_000),
      requestsBy5s: countsPerSlot(
        requestAt.map((at) => at - started),
        5_000,
      ),
      killedAtMs: killedAt,
      firstAnswers: byAnswer,
      retryAnswers: later,
      p50Ms: percentile(times, 50),
      p99Ms: percentile(times, 99),
      shedP50Ms: percentile(shedTimes, 50),
      shedP99Ms: percentile(shedTimes, 99),
      decidedP50Ms: percentile(decidedTimes, 50),
      decidedP99Ms: percentile(decidedTimes, 99),
      withoutFinalAnswer: finals.filter((reply) => !final(reply)).length,
      granted: grantedClaims.total,
      ...(browse && { views: viewSummary(views) }),
      remaining: rewards[0]?.remaining,
      reads,
    };
  } finally {
    await Promise.all(clients.map((client) => client.destroy()));
    for (const child of children.reverse()) await child.stop();
  }
}

/** The browsing reads' answers by status (and code), and their p50/p99 (ms). */
function viewSummary(views) {
  const byAnswer = {};
  for (const { status, code } of views) {
    const answer = `${status}${code ? ` ${code}` : ''}`;
    byAnswer[answer] = (byAnswer[answer] ?? 0) + 1;
  }
  const times = views.map((read) => read.ms).sort((a, b) => a - b);
  return { byAnswer, p50Ms: percentile(times, 50), p99Ms: percentile(times, 99) };
}

/**
 * One CSV export read as a client would: its status, bytes, whether it ended cleanly (the chunked encoding's
 * last chunk came) or with an error (a cut stream), the time to its headers, its whole time and its longest
 * pause between two chunks.
 */
async function readExport(base, token, path) {
  const started = performance.now();
  let headersMs;
  let bytes = 0;
  let longestGapMs = 0;
  try {
    const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    headersMs = performance.now() - started;
    let last = performance.now();
    for await (const chunk of response.body) {
      const now = performance.now();
      longestGapMs = Math.max(longestGapMs, now - last);
      last = now;
      bytes += chunk.length;
    }
    return { status: response.status, bytes, whole: true, headersMs, ms: performance.now() - started, longestGapMs };
  } catch (error) {
    const code = String(error.cause?.code ?? error.cause?.message ?? error.message);
    return { status: 0, bytes, whole: false, error: code, headersMs, ms: performance.now() - started, longestGapMs };
  }
}

async function readList(base, token, path) {
  const started = performance.now();
  try {
    const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const body = await response.json().catch(() => undefined);
    return { status: response.status, code: body?.code, ms: performance.now() - started };
  } catch (error) {
    return { status: 0, code: String(error.cause?.code ?? error.message), ms: performance.now() - started };
  }
}

/** Prints one burst's figures as rows. */
export function printBurst(result, row = (label, value) => console.log(`  ${label.padEnd(52)}  ${value}`)) {
  console.log(
    `\nlaunch burst: ${result.players} players x 2 taps at once, stock ${result.stock}, ${result.replicas} event-server ` +
      `replica(s)${result.killedAtMs !== undefined ? `, one SIGKILLed at ${(result.killedAtMs / 1000).toFixed(1)} s` : ''}`,
  );
  row('first answers p50 / p99 ms', `${result.p50Ms.toFixed(0)} / ${result.p99Ms.toFixed(0)}`);
  row(
    '  of those turned away (429/503) / the others',
    [result.shedP50Ms, result.shedP99Ms, result.decidedP50Ms, result.decidedP99Ms]
      .map((ms) => (Number.isFinite(ms) ? ms.toFixed(0) : '-'))
      .join(' / ')
      .replace(/ \/ (?=[^/]+ \/ [^/]+$)/, ', '),
  );
  for (const [answer, count] of Object.entries(result.firstAnswers).sort()) row(`  first answer ${answer}`, count);
  for (const [answer, count] of Object.entries(result.retryAnswers).sort()) row(`  retry answer ${answer}`, count);
  row('Retry-After told, any answer that had one (s: times)', retryAfterTally(result.retryAfterTold));
  row('final answers, each 5 s from the start', result.finalsBy5s.join(' '));
  row('requests sent, each 5 s from the start', result.requestsBy5s.join(' '));
  row('until every tap had its first answer (s)', (result.firstWaveEndMs / 1000).toFixed(1));
  row('until the last grant was answered (s)', (result.lastGrantMs / 1000).toFixed(1));
  row('until the last player had a final answer (s)', (result.lastFinalMs / 1000).toFixed(1));
  row('players without a final answer', result.withoutFinalAnswer);
  row(`GRANTED (must be ${result.stock}), remaining (must be 0)`, `${result.granted}, ${result.remaining}`);
  if (result.views) {
    row('views (the event, the active events, own claims) by answer', JSON.stringify(result.views.byAnswer));
    row('  views p50 / p99 ms', `${result.views.p50Ms.toFixed(0)} / ${result.views.p99Ms.toFixed(0)}`);
  }
  const { exports, lists } = result.reads;
  if (exports.length === 0 && lists.length === 0) return;
  const range = (values) => {
    const sorted = values.sort((a, b) => a - b);
    return sorted.length === 0 ? '-' : `${(sorted[0] / 1000).toFixed(1)}-${(sorted.at(-1) / 1000).toFixed(1)} s`;
  };
  const cut = exports.filter((read) => !read.whole || read.status !== 200);
  row('CSV exports during the burst: whole / cut or refused', `${exports.length - cut.length} / ${cut.length}`);
  for (const read of cut) {
    row(
      `  cut: ${read.status || read.error}`,
      `after ${(read.ms / 1000).toFixed(1)} s, ${read.bytes} bytes, longest pause ${(read.longestGapMs / 1000).toFixed(1)} s`,
    );
  }
  row(
    '  whole exports: time, longest pause between chunks',
    `${range(exports.filter((r) => !cut.includes(r)).map((r) => r.ms))}, ${range(exports.filter((r) => !cut.includes(r)).map((r) => r.longestGapMs))}`,
  );
  row('  every export: time to headers', range(exports.map((r) => r.headersMs ?? r.ms)));
  const byStatus = {};
  for (const read of lists)
    byStatus[`${read.status} ${read.code ?? ''}`.trim()] = (byStatus[`${read.status} ${read.code ?? ''}`.trim()] ?? 0) + 1;
  row('GET /claims during the burst', JSON.stringify(byStatus));
  row('  GET /claims time', range(lists.map((read) => read.ms)));
  const store = result.reads.store;
  const over = store.filter((read) => read.ms > 10_000).length;
  row(
    'the same find + count sent to the store directly',
    `${store.length} reads, ${over} over 10 s, ${range(store.map((read) => read.ms))}`,
  );
}

if (process.argv[1] && resolvePath(process.argv[1]) === SELF) {
  const flag = (name) => {
    const index = process.argv.indexOf(name);
    return index >= 0 ? process.argv[index + 1] : undefined;
  };
  const result = await benchBurst({
    mongoUri: process.env.MONGODB_URI,
    replicas: Number(flag('--replicas') ?? 1),
    players: Number(flag('--players') ?? 500),
    stock: Number(flag('--stock') ?? 100),
    kill: process.argv.includes('--kill'),
    readers: Number(flag('--readers') ?? 0),
    browse: process.argv.includes('--browse'),
  });
  printBurst(result);
}
