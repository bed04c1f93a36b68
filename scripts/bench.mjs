#!/usr/bin/env node
// npm run bench: prints throughput and latency figures of the real servers on a real database.
// Numbers, not assertions: these machines are shared and noisy, so each figure is shown beside baselines
// measured in the same run (the same call made directly to the event server, skipping the gateway; the
// store's own work alone), and the ratios between them are what to compare across runs.
//
// Uses MONGODB_URI when set; otherwise starts an embedded MongoDB (mongodb-memory-server).
import { benchStore } from './bench-store.mjs';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import jwt from 'jsonwebtoken';
import { getConnectionToken } from '@nestjs/mongoose';
import { benchBurst, printBurst } from './bench-burst.mjs';
import { benchLogins, printLogins } from './bench-logins.mjs';
import { bareProxyProcess, benchGateway, cpuMsOf, freePort, serverProcess } from './bench-gateway.mjs';
import { storeApart, storeProcessIds } from './bench-affinity.mjs';
import { createClaimableEvent, fetchApi, grantedClaimHolding, makeEligible } from '../test-support/claimable-event.ts';
import { TokenForge } from '../test-support/tokens.ts';
import mongoose from 'mongoose';
import { Pool } from 'undici';
import { createAuthServer, loadAuthConfig } from '@reward/auth-server/server';
import { createEventServer, loadEventConfig } from '@reward/event-server/server';
import { createGatewayServer, loadGatewayConfig } from '@reward/gateway/server';
// The event server's own diagnostics entry, to time the store's share and the evaluator's share on their own.
import { ActivityRepository, ClaimRepository, evaluateCondition, factPlanOf } from '@reward/event-server/diagnostics';

// This one process runs a dozen servers, each listening for SIGTERM and SIGINT to close gracefully (and Nest's
// shutdown hooks): more than the 10 listeners after which Node warns of a leak, which this is not.
process.setMaxListeners(64);

const ADMIN = { email: 'bench-admin@example.com', password: 'bench-admin-password' };
const run = `bench_${Date.now().toString(36)}_${randomBytes(2).toString('hex')}`;

const benchDb = await benchStore();
const mongoUri = benchDb.uri;

const quiet = { NODE_ENV: 'test', LOG_LEVEL: 'silent', MONGODB_URI: mongoUri };
// The gateways' settings: every bench player is this one address, so no per-address connection limit.
const gatewayQuiet = { ...quiet, GATEWAY_MAX_CONNECTIONS_PER_ADDRESS: '0' };
async function listen(app) {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (await app.getUrl()).replace('[::1]', '127.0.0.1');
}

// The bench holds the signing key so it can mint tokens for thousands of players without registering them.
// The tests' token forge: the auth server is given its key.
const forge = TokenForge.generate();
// Valid for a day: a full run on a slow store outlasts the 15 minutes of a real access token.
const mintToken = (sub, roles) => forge.sign({ sub, roles }, { expiresInSeconds: 24 * 3600 });
const playerToken = (userId) => mintToken(userId, ['USER']);

const auth = await createAuthServer(
  loadAuthConfig({
    ...quiet,
    AUTH_DB_NAME: `${run}_auth`,
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    BCRYPT_ROUNDS: '4',
    LOGIN_FAILURES_PER_ADDRESS: '100000',
    REGISTRATIONS_PER_ADDRESS: '100000',
    OUTBOX_ENABLED: 'false',
    JWT_PRIVATE_KEY: forge.privateKeyPem,
  }),
);
const authUrl = await listen(auth);
const event = await createEventServer(
  loadEventConfig({
    ...quiet,
    // The driver's command monitoring, to count the store commands each operation makes.
    MONGODB_URI: `${mongoUri}${mongoUri.includes('?') ? '&' : '?'}monitorCommands=true`,
    EVENT_DB_NAME: `${run}_event`,
    AUTH_JWKS_URL: `${authUrl}/.well-known/jwks.json`,
    CLAIM_RECONCILE_INTERVAL_MS: '0',
    // No webhook endpoint exists here: a relay poll landing during a counted request would be counted as its.
    PAYOUT_RELAY_INTERVAL_MS: '0',
    // Nor the login mark sweep after the one at start.
    LOGIN_MARK_SWEEP_MS: '0',
    // Nor a heartbeat (its keys then name no owner; the plain servers below beat as deployed).
    CLAIM_HEARTBEAT_MS: '0',
    // The command counts repeat one player's refusals many times: none may be a 429 (which reads nothing).
    CLAIM_PLAYER_BURST: '0',
  }),
);
const eventUrl = await listen(event);
let commandLog;
let commandTimes;
const eventClient = event.get(getConnectionToken()).getClient();
// Each command's name and collection ("insert claims"), by request id, until it ends.
const commandNames = new Map();
eventClient.on('commandStarted', (started) => {
  const name = `${started.commandName} ${started.command[started.commandName]}`;
  commandLog?.push(name);
  if (commandTimes) commandNames.set(started.requestId, name);
});
eventClient.on('commandSucceeded', (done) => {
  const name = commandNames.get(done.requestId);
  commandNames.delete(done.requestId);
  if (!commandTimes || !name) return;
  const entry = (commandTimes[name] ??= { count: 0, ms: 0 });
  entry.count += 1;
  entry.ms += done.duration;
});
eventClient.on('commandFailed', (failed) => commandNames.delete(failed.requestId));
/** The operation whose event and rewards reads are its own, not a cache's refresh (see CACHE_REFRESH). */
const STAFF_VIEW = "staff's view of an event (read and counted now)";
/** Players listing the active events at once, for the store commands their lists cost together. */
const LISTING_PLAYERS = 50;
const LISTING = `${LISTING_PLAYERS} players listing the active events at once, each at its own instant`;
/** Rows whose reads of events are theirs, not the event cache's refresh. */
const READS_EVENTS_ITSELF = new Set([STAFF_VIEW, LISTING]);
/** The store commands the event server makes while `fn` runs (run it alone). */
async function commandsOf(fn) {
  commandLog = [];
  try {
    await fn();
    return commandLog;
  } finally {
    commandLog = undefined;
  }
}
const gateway = await createGatewayServer(
  loadGatewayConfig({ ...gatewayQuiet, AUTH_SERVICE_URL: authUrl, EVENT_SERVICE_URL: eventUrl }),
);
const gatewayUrl = await listen(gateway);
// The claims/s rounds run against event servers without the driver's command monitoring, as deployed: it
// builds an event object per command and copies every command and reply, which the store's floor (a
// plain driver) does not pay. Two such replicas on the same database, a gateway in front of the first,
// and a gateway that balances over both. The monitored server above counts the commands.
const plainEventServer = () =>
  createEventServer(
    loadEventConfig({
      ...quiet,
      EVENT_DB_NAME: `${run}_event`,
      AUTH_JWKS_URL: `${authUrl}/.well-known/jwks.json`,
      CLAIM_RECONCILE_INTERVAL_MS: '0',
      PAYOUT_RELAY_INTERVAL_MS: '0',
    }),
  );
const eventReplica = await plainEventServer();
const eventReplicaUrl = await listen(eventReplica);
const secondReplica = await plainEventServer();
const secondReplicaUrl = await listen(secondReplica);
const plainGateway = await createGatewayServer(
  loadGatewayConfig({ ...gatewayQuiet, AUTH_SERVICE_URL: authUrl, EVENT_SERVICE_URL: eventReplicaUrl }),
);
const plainGatewayUrl = await listen(plainGateway);
const twoReplicaGateway = await createGatewayServer(
  loadGatewayConfig({ ...gatewayQuiet, AUTH_SERVICE_URL: authUrl, EVENT_SERVICE_URL: `${eventReplicaUrl},${secondReplicaUrl}` }),
);
const twoReplicaUrl = await listen(twoReplicaGateway);

async function call(base, method, path, token, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body && { 'content-type': 'application/json' }) },
    body: body && JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} -> ${response.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : undefined;
}

/** An answer's body: its JSON, nothing when empty, or its first 100 characters when not JSON. */
function bodyOf(text) {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return { raw: text.slice(0, 100) };
  }
}

/** One request, whatever its answer: status, body, headers and the time it took. */
async function send(base, method, path, token, headers = {}) {
  const started = performance.now();
  try {
    const response = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...headers } });
    return { status: response.status, body: bodyOf(await response.text()), ms: performance.now() - started };
  } catch (error) {
    return { status: 0, body: { code: String(error.cause?.code ?? error.message) }, ms: performance.now() - started };
  }
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
const fmt = (n, digits = 1) => n.toFixed(digits).padStart(8);

const login = await fetch(`${gatewayUrl}/auth/login`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(ADMIN),
}).then((r) => r.json());
// Staff calls carry a token minted like the players' ones, for the admin who just logged in.
const token = mintToken(jwt.decode(login.accessToken).sub, ['ADMIN']);
const objectId = () => randomBytes(12).toString('hex');

/**
 * Milliseconds each of `samples` sequential calls of `fn` takes, sorted. A call that fails (a gateway
 * timeout on a slow store, say) counts with the time it took and is reported, not fatal to the run.
 */
async function latencies(samples, fn) {
  const times = [];
  let failures = 0;
  let lastError;
  for (let i = 0; i < samples; i += 1) {
    const started = performance.now();
    try {
      await fn(i);
    } catch (error) {
      failures += 1;
      lastError = error;
    }
    times.push(performance.now() - started);
  }
  return Object.assign(
    times.sort((a, b) => a - b),
    { failures, lastError },
  );
}
const failed = ({ failures, lastError }) =>
  failures ? `  ${failures} failed, e.g. ${String(lastError?.message ?? lastError).slice(0, 90)}` : '';
const latencyRow = (label, times) =>
  console.log(`  ${label.padEnd(52)}  ${fmt(percentile(times, 50), 2)} ${fmt(percentile(times, 99), 2)}${failed(times)}`);
const rateRow = (label, value, digits = 0, note = '') => console.log(`  ${label.padEnd(52)}  ${fmt(value, digits)}${note}`);

// Claims run first: on a store that scans whole collections (FerretDB v1), the import and progress phases'
// 50,000 activities would otherwise be read by every claim's eligibility check. The claim history (the same
// claim with 100,000 units taken) runs last: its taken units are 100,000 claims.
const now = Date.now();
const SAMPLES = Number(process.env.BENCH_PROGRESS_SAMPLES ?? 200);
// A plain connection to the event database: to seed claims and to time the store's own work.
const store = await mongoose.createConnection(mongoUri, { dbName: `${run}_event` }).asPromise();

// --- Claims ------------------------------------------------------------------------------------------
// Events and eligible players come from the tests' own fixture, through the gateway like any client.
const fixtureApi = fetchApi(gatewayUrl);
/** An AUTO (or MANUAL) event whose condition is one BENCH_ELIGIBLE activity, with one reward of `stock` (undefined: unlimited). */
async function claimableEvent(stock, approval = 'AUTO', secondStock = undefined) {
  const created = await createClaimableEvent(fixtureApi, token, {
    title: 'bench claims',
    activity: 'BENCH_ELIGIBLE',
    approval,
    startAt: new Date(now - 3_600_000),
    endAt: new Date(now + 86_400_000),
    rewards: [
      { type: 'POINT', name: 'Points', quantity: 10, ...(stock !== undefined && { stock }) },
      ...(secondStock === undefined ? [] : [{ type: 'ITEM', name: 'Gem', quantity: 1, itemCode: 'GEM', stock: secondStock }]),
    ],
  });
  return { id: created.id, rewardId: created.rewardIds[0] };
}
/** `count` fresh player ids, each with the one activity that makes them eligible. */
async function eligiblePlayers(count) {
  const ids = Array.from({ length: count }, objectId);
  await makeEligible(fixtureApi, token, 'BENCH_ELIGIBLE', ids);
  return ids;
}
const claimOnce = (base, eventId, userId, headers, token = playerToken(userId)) =>
  send(base, 'POST', `/events/${eventId}/claims`, token, headers);

// The claims/s rounds' load generator: undici's own request API on a pool of keep-alive connections per
// server. This process also runs the servers, so the client's CPU is taken from theirs: fetch's WHATWG
// streams and headers cost about 0.5 ms of it per claim, undici's request API about a third of that.
const claimPools = new Map();
async function claimFast(base, eventId, token) {
  let pool = claimPools.get(base);
  if (!pool) claimPools.set(base, (pool = new Pool(base, { connections: 32 })));
  try {
    const response = await pool.request({
      method: 'POST',
      path: `/events/${eventId}/claims`,
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: response.statusCode, body: bodyOf(await response.body.text()) };
  } catch (error) {
    return { status: 0, body: { code: String(error.code ?? error.message) } };
  }
}

/** The server processes of the claim paths "as processes" while they run (see claimPathProcess). */
const serverProcesses = [];
process.on('exit', () => {
  for (const child of serverProcesses) child.kill();
});

/**
 * CPU milliseconds used so far by this process (bench client, gateway and servers share it; `servers`: the
 * server processes of the claim paths "as processes", see claimPathProcess) and by every
 * local store process (FerretDB, PostgreSQL, mongod; Linux /proc only, else undefined). On a small machine
 * they share the cores, so CPU per claim is what bounds claims/s there, whatever the commands' count.
 */
function cpuNow() {
  const own = process.cpuUsage();
  let store;
  try {
    for (const pid of storeProcessIds()) {
      try {
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        // Its own CPU and that of its children which have ended (cutime, cstime): a PostgreSQL backend that
        // exits between two readings has its CPU moved to the postmaster's, rather than lost (which made
        // the store's CPU per command print negative).
        const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
        store = (store ?? 0) + ticks * 10; // clock ticks of 10 ms
      } catch {
        // the process ended while we looked
      }
    }
  } catch {
    // no /proc here
  }
  // The servers that run as processes of their own (see claimPathProcess): their CPU counts as this process's.
  let servers = 0;
  const each = new Map();
  for (const { pid } of serverProcesses) {
    const ms = cpuMsOf(pid) ?? 0;
    servers += ms;
    each.set(pid, ms);
  }
  return { node: (own.user + own.system) / 1000, store, servers, each };
}
/** CPU ms per operation since `before` (see cpuNow). */
function cpuPer(before, operations) {
  const after = cpuNow();
  return {
    node: (after.node - before.node + (after.servers ?? 0) - (before.servers ?? 0)) / operations,
    store: before.store === undefined || after.store === undefined ? undefined : (after.store - before.store) / operations,
    // Each server process's own, by process id.
    each: new Map([...after.each].map(([pid, ms]) => [pid, (ms - (before.each.get(pid) ?? 0)) / operations])),
  };
}

/** Claims/s with `concurrency` players in flight, each player claiming once (`unlimited`: a reward without stock). */
async function claimThroughput(base, players, concurrency, { unlimited = false, commands } = {}) {
  const claimable = await claimableEvent(unlimited ? undefined : players);
  const ids = await eligiblePlayers(players);
  await claimOnce(base, claimable.id, ids.pop()); // fills the event cache
  // The players' tokens are signed before the clock starts: an RS256 signature is the client's work, not the server's.
  const tokens = ids.map(playerToken);
  let next = 0;
  let granted = 0;
  const outcome = { failures: 0, lastError: undefined };
  // The event server's commands are counted into `commands` while the claims run (not the set-up).
  commandTimes = commands;
  const cpu = cpuNow();
  const started = performance.now();
  const worker = async () => {
    while (next < ids.length) {
      const token = tokens[next];
      next += 1;
      const reply = await claimFast(base, claimable.id, token);
      if (reply.body?.status === 'GRANTED') granted += 1;
      else {
        outcome.failures += 1;
        outcome.lastError = new Error(`${reply.status} ${reply.body?.code}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  commandTimes = undefined;
  const result = {
    rate: granted / ((performance.now() - started) / 1000),
    cpu: cpuPer(cpu, ids.length),
    claims: ids.length,
    ...outcome,
  };
  await forgetEligibility();
  return result;
}

/**
 * Removes the claim rounds' eligibility activities once a round is timed, so that every round runs on a store
 * of the same size. On FerretDB a find reads every document of its collection (no index serves it): without
 * this, each round read the activities of all the rounds before it, and the last of four rounds of 400
 * decided claims about a third slower than the first for that alone (a round's own players stay until it ends).
 */
async function forgetEligibility() {
  await store.collection('activities').deleteMany({ type: 'BENCH_ELIGIBLE' });
}

/** `operations` calls of `fn(index)`, `concurrency` in flight: the rate and the CPU per call (see cpuNow). */
async function storeCommandCost(operations, fn, concurrency = 16) {
  let next = 0;
  const cpu = cpuNow();
  const started = performance.now();
  const worker = async () => {
    while (next < operations) {
      const index = next;
      next += 1;
      await fn(index);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { rate: operations / ((performance.now() - started) / 1000), cpu: cpuPer(cpu, operations) };
}

/** The store's floor: single-document inserts by the driver (unique index, like a claim's), `concurrency` in flight. */
async function storeInsertRate(count, concurrency) {
  const collection = store.collection('bench_floor');
  await collection.createIndex({ key: 1 }, { unique: true });
  return storeCommandCost(
    count,
    () => collection.insertOne({ key: objectId(), userId: objectId(), createdAt: new Date() }),
    concurrency,
  );
}

/** A scratch collection with the claims collection's own indexes (unique and sparse as there). */
async function claimShapedCollection(name) {
  const shaped = store.collection(name);
  for (const { key, unique, sparse } of await store.collection('claims').listIndexes().toArray()) {
    if (key._id === undefined) await shaped.createIndex(key, { unique: unique === true, sparse: sparse === true });
  }
  return shaped;
}

/**
 * The store alone doing what a claim makes it do, `concurrency` in flight: the claim's activity read for a
 * fresh eligible player (its own count command: filter and limit), then the insert of a claim-shaped document
 * into a scratch collection with the claims collection's indexes. No server can decide claims faster than
 * this on the store at hand, so it tells how much of the floor's rate a claim can reach at best here.
 */
async function storeClaimCommandsRate(players, concurrency) {
  const shaped = await claimShapedCollection(`bench_claim_commands_${objectId()}`);
  const ids = await eligiblePlayers(players);
  const eventId = objectId();
  const period = { $gte: new Date(now - 3_600_000), $lte: new Date(now + 86_400_000) };
  const result = await storeCommandCost(
    ids.length,
    async (index) => {
      const userId = ids[index];
      const { n } = await store.db.command({
        count: 'activities',
        query: { userId, type: 'BENCH_ELIGIBLE', occurredAt: period },
        limit: 1,
      });
      if (n !== 1) throw new Error(`player ${userId} is not eligible in the store`);
      await shaped.insertOne({
        eventId,
        userId,
        status: 'GRANTED',
        rewards: [{ rewardId: objectId(), type: 'POINT', name: 'Points', quantity: 10 }],
        slotKey: `${eventId}:${userId}`,
        unitKey: `${eventId}:${index}`,
        unitRewardId: eventId,
        createdAt: new Date(),
        decidedAt: new Date(),
      });
    },
    concurrency,
  );
  await shaped.drop();
  await forgetEligibility();
  return result;
}

// Store commands per operation, each request alone (the event server's own driver, command monitoring).
const counts = {};
{
  const auto = await claimableEvent(1_000);
  const manual = await claimableEvent(1_000, 'MANUAL');
  const single = await claimableEvent(1);
  const unlimited = await claimableEvent(undefined);
  const twoLimited = await claimableEvent(1_000, 'AUTO', 1_000);
  const [a0, a1, a2, m0, m1, s0, s1, s2, u0, u1, t0, t1, elsewhere] = await eligiblePlayers(13);
  await claimOnce(gatewayUrl, twoLimited.id, t0);
  await claimOnce(gatewayUrl, unlimited.id, u0);
  await claimOnce(gatewayUrl, auto.id, a0);
  await claimOnce(gatewayUrl, manual.id, m0);
  await claimOnce(gatewayUrl, single.id, s0);
  await claimOnce(gatewayUrl, single.id, s1); // finds the reward sold out
  counts['AUTO claim, one limited reward'] = await commandsOf(() => claimOnce(gatewayUrl, auto.id, a1));
  counts['AUTO claim with an Idempotency-Key'] = await commandsOf(() =>
    claimOnce(gatewayUrl, auto.id, a2, { 'idempotency-key': `k-${a2}` }),
  );
  counts['AUTO claim, no limited reward (born decided)'] = await commandsOf(() => claimOnce(gatewayUrl, unlimited.id, u1));
  counts['MANUAL claim (PENDING, stock reserved)'] = await commandsOf(() => claimOnce(gatewayUrl, manual.id, m1));
  counts['progress check'] = await commandsOf(() => send(gatewayUrl, 'GET', `/events/${auto.id}/progress`, playerToken(a1)));
  // A player's app opening the event (the event catalog's copy, the shared counts), and staff's view of it.
  counts["player's view of an event (GET /events/{id})"] = await commandsOf(() =>
    send(gatewayUrl, 'GET', `/events/${auto.id}`, playerToken(a1)),
  );
  counts[STAFF_VIEW] = await commandsOf(() => send(gatewayUrl, 'GET', `/events/${auto.id}`, token));
  // A launch's crowd of apps listing the events active now, each at its own clock (a millisecond apart here).
  counts[LISTING] = await commandsOf(() => {
    const now = Date.now();
    const instant = (index) => encodeURIComponent(new Date(now + index).toISOString());
    return Promise.all(
      Array.from({ length: LISTING_PLAYERS }, (_, index) =>
        send(gatewayUrl, 'GET', `/events?status=ACTIVE&activeAt=${instant(index)}`, playerToken(objectId())),
      ),
    );
  });
  counts['AUTO claim, two limited rewards (the long path)'] = await commandsOf(() => claimOnce(gatewayUrl, twoLimited.id, t1));
  counts['refusal: already claimed (this process saw the claim)'] = await commandsOf(() => claimOnce(gatewayUrl, auto.id, a1));
  // A claim another replica recorded: written straight into the store, as that replica's insert would.
  await store.collection('claims').insertOne({
    eventId: auto.id,
    userId: elsewhere,
    status: 'GRANTED',
    rewards: [],
    slotKey: `${auto.id}:${elsewhere}`,
    createdAt: new Date(),
  });
  counts['refusal: already claimed (another replica recorded it)'] = await commandsOf(() =>
    claimOnce(gatewayUrl, auto.id, elsewhere),
  );
  counts['refusal: condition not met'] = await commandsOf(() => claimOnce(gatewayUrl, auto.id, objectId()));
  counts['refusal: out of stock'] = await commandsOf(() => claimOnce(gatewayUrl, single.id, s2));
}

// The claim path as deployed: the event server (one or two replicas) and the gateway each a process of its
// own (built dist/, LOG_LEVEL=warn), on this run's database and the auth server above; the load generator
// stays here. In this process the client, the gateway and the event server share one thread, so a claim
// waits for the others' work; these rows show the same claims on the platform's own topology.
async function claimPathProcess(entry, portVariable, env) {
  const port = await freePort();
  const child = serverProcess(entry, { MONGODB_URI: mongoUri, [portVariable]: String(port), ...env }, port);
  serverProcesses.push(child);
  return child.ready;
}
const eventProcessEnv = {
  EVENT_DB_NAME: `${run}_event`,
  AUTH_JWKS_URL: `${authUrl}/.well-known/jwks.json`,
  CLAIM_RECONCILE_INTERVAL_MS: '0',
  PAYOUT_RELAY_INTERVAL_MS: '0',
};
const eventProcessUrls = [
  await claimPathProcess('event-server/dist/main.js', 'EVENT_PORT', eventProcessEnv),
  await claimPathProcess('event-server/dist/main.js', 'EVENT_PORT', eventProcessEnv),
];
const gatewayProcess = (upstreams) =>
  claimPathProcess('gateway/dist/main.js', 'GATEWAY_PORT', {
    GATEWAY_MAX_CONNECTIONS_PER_ADDRESS: '0',
    AUTH_SERVICE_URL: authUrl,
    EVENT_SERVICE_URL: upstreams.join(','),
  });
const processGatewayUrl = await gatewayProcess(eventProcessUrls.slice(0, 1));
const gatewayProcessId = serverProcesses.at(-1).pid;
const processTwoReplicaUrl = await gatewayProcess(eventProcessUrls);
// A bare @fastify/http-proxy process where the gateway process stands, before the same event-server process:
// the difference is what the gateway's own work (the token checked, the policy, the headers) costs a claim.
const bareProxy = bareProxyProcess(eventProcessUrls[0]);
serverProcesses.push(bareProxy);
const processBareUrl = await bareProxy.ready;

// Claims/s at 16 players in flight against the store's own insert rate at 16 in flight, interleaved.
// BENCH_CLAIM_PLAYERS players claim through each path in all, over BENCH_CLAIM_ROUNDS rounds. A round of 200
// claims lasted about 0.3 s, and one pause in it (a collection of the old generation, a server's timer)
// moved its rate by a third: rounds of 400, four of them, their order reversed every other round (no path
// always runs first, or always after the same one), and the median round of each path is what prints.
const CLAIM_ROUNDS = Math.max(1, Math.trunc(Number(process.env.BENCH_CLAIM_ROUNDS ?? 4)) || 1);
const CLAIM_PLAYERS = Number(process.env.BENCH_CLAIM_PLAYERS ?? 1600);
const perRound = Math.max(16, Math.round(CLAIM_PLAYERS / CLAIM_ROUNDS));
// Warm-up: the first few hundred claims of a fresh process run code V8 has not optimised yet (a profile saw
// its CPU per claim fall from 3.1 to 1.8 ms over three rounds of 400); a server at a launch has been up for a while.
// The server processes started just now get two rounds (the two-replica gateway spreads them over both).
for (const base of [
  plainGatewayUrl,
  eventReplicaUrl,
  twoReplicaUrl,
  gatewayUrl,
  processGatewayUrl,
  processTwoReplicaUrl,
  processBareUrl,
  processGatewayUrl,
  processTwoReplicaUrl,
  processBareUrl,
]) {
  await claimThroughput(base, 300, 16);
}
await claimThroughput(plainGatewayUrl, 300, 16, { unlimited: true });
const claimRounds = {
  gateway: [],
  direct: [],
  twoReplicas: [],
  processes: [],
  processesTwoReplicas: [],
  processesBare: [],
  processesStoreApart: [],
  storeApart: [],
  unlimited: [],
  store: [],
  storeClaim: [],
  monitored: [],
  monitoredBorn: [],
};
// The event server's commands during the claims through the gateway, limited and born decided (all rounds).
const claimCommands = { limited: {}, born: {} };
const claimSteps = [
  ['gateway', () => claimThroughput(plainGatewayUrl, perRound, 16)],
  ['storeClaim', () => storeClaimCommandsRate(perRound, 16)],
  ['direct', () => claimThroughput(eventReplicaUrl, perRound, 16)],
  ['twoReplicas', () => claimThroughput(twoReplicaUrl, perRound, 16)],
  ['processes', () => claimThroughput(processGatewayUrl, perRound, 16)],
  ['processesTwoReplicas', () => claimThroughput(processTwoReplicaUrl, perRound, 16)],
  ['processesBare', () => claimThroughput(processBareUrl, perRound, 16)],
  ['unlimited', () => claimThroughput(plainGatewayUrl, perRound, 16, { unlimited: true })],
  // The same claims through the monitored server: the commands each makes while 16 are in flight.
  ['monitored', () => claimThroughput(gatewayUrl, perRound, 16, { commands: claimCommands.limited })],
  [
    'monitoredBorn',
    () => claimThroughput(gatewayUrl, Math.ceil(perRound / 2), 16, { unlimited: true, commands: claimCommands.born }),
  ],
  ['store', () => storeInsertRate(perRound * 4, 16)],
];
// The same claims as processes, and the store's floor, with the store on cores of its own (see bench-affinity).
const apart = storeApart(() => serverProcesses.map(({ pid }) => pid));
if (apart.run) {
  claimSteps.push(
    ['processesStoreApart', () => apart.run(() => claimThroughput(processGatewayUrl, perRound, 16))],
    ['storeApart', () => apart.run(() => storeInsertRate(perRound * 4, 16))],
  );
}
for (let round = 0; round < CLAIM_ROUNDS; round += 1) {
  for (const [kind, step] of round % 2 === 0 ? claimSteps : [...claimSteps].reverse()) claimRounds[kind].push(await step());
}
for (const child of serverProcesses.splice(0)) await child.stop();
// The store's own cost of each kind of command a claim makes, the driver alone, 16 in flight: what a claim
// costs the store in units of the floor's insert. Claim-shaped documents go to a scratch collection with the
// claims collection's own indexes; the activity read is the claim's own query on the real collection.
const COMMAND_SAMPLES = Number(process.env.BENCH_COMMAND_SAMPLES ?? 600);
const commandCosts = {};
{
  const shaped = await claimShapedCollection('bench_claim_shape');
  const claimShaped = () => {
    const userId = objectId();
    return {
      eventId: objectId(),
      userId,
      status: 'PROCESSING',
      rewards: [{ rewardId: objectId(), type: 'POINT', name: 'Points', quantity: 10 }],
      slotKey: `${objectId()}:${userId}`,
      createdAt: new Date(),
    };
  };
  const players = await eligiblePlayers(COMMAND_SAMPLES);
  commandCosts['insert, floor (one unique index)'] = await storeInsertRate(COMMAND_SAMPLES, 16);
  const ids = [];
  commandCosts["insert, a claim (the claims' indexes)"] = await storeCommandCost(COMMAND_SAMPLES, async () => {
    ids.push((await shaped.insertOne(claimShaped())).insertedId);
  });
  commandCosts['update by _id and status (the projection)'] = await storeCommandCost(COMMAND_SAMPLES, (index) =>
    shaped.updateOne({ _id: ids[index], status: 'PROCESSING' }, { $set: { status: 'GRANTED', decidedAt: new Date() } }),
  );
  commandCosts["find a player's activities of one type"] = await storeCommandCost(COMMAND_SAMPLES, (index) =>
    store
      .collection('activities')
      .find({ userId: players[index], type: 'BENCH_ELIGIBLE' }, { projection: { type: 1, occurredAt: 1, _id: 0 } })
      .limit(1)
      .toArray(),
  );
  // What a claim sends for a condition that only counts (the count command), and the driver's countDocuments
  // (an aggregation) that it replaced, side by side.
  commandCosts["count a player's activities of one type"] = await storeCommandCost(COMMAND_SAMPLES, (index) =>
    store.db.command({ count: 'activities', query: { userId: players[index], type: 'BENCH_ELIGIBLE' }, limit: 1 }),
  );
  commandCosts['the same by countDocuments (an aggregation)'] = await storeCommandCost(COMMAND_SAMPLES, (index) =>
    store.collection('activities').countDocuments({ userId: players[index], type: 'BENCH_ELIGIBLE' }, { limit: 1 }),
  );
  await shaped.drop();
}

/** The median of some numbers (of an even count, the mean of the middle two). */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
/** A path's claims/s: its median round (see CLAIM_ROUNDS). */
const medianRate = (rounds) => median(rounds.map((round) => round.rate));
const claimFailures = (rounds) => ({
  failures: rounds.reduce((sum, round) => sum + (round.failures ?? 0), 0),
  lastError: rounds.find((round) => round.lastError)?.lastError,
});

// The launch burst against the real processes (one and two event-server replicas, then two with one killed).
const BURST_PLAYERS = Number(process.env.BENCH_BURST_PLAYERS ?? 500);
const BURST_STOCK = Number(process.env.BENCH_BURST_STOCK ?? 100);
const bursts = [];
for (const [replicas, kill] of [
  [1, false],
  [2, false],
  [2, true],
]) {
  bursts.push(await benchBurst({ mongoUri, replicas, kill, players: BURST_PLAYERS, stock: BURST_STOCK }));
}
// The crowd signing in before it claims: BURST_PLAYERS sign-ins at once, at the production bcrypt cost.
const logins = await benchLogins({ mongoUri, players: BURST_PLAYERS });

// --- GET /claims with a filter over 100,000 claims ----------------------------------------------------
const HISTORY = Number(process.env.BENCH_HISTORY_CLAIMS ?? 100_000);
const eventIds = Array.from({ length: 20 }, objectId);
const historyUsers = Array.from({ length: 5_000 }, objectId);
const statuses = ['GRANTED', 'REJECTED', 'PENDING', 'REVOKED'];
for (let start = 0; start < HISTORY; start += 5_000) {
  const docs = Array.from({ length: Math.min(5_000, HISTORY - start) }, (_, i) => {
    const id = new mongoose.Types.ObjectId();
    const n = start + i;
    return {
      _id: id,
      eventId: eventIds[n % eventIds.length],
      userId: historyUsers[n % historyUsers.length],
      status: statuses[n % statuses.length],
      ...(n % 4 === 1 && { reason: 'CONDITION_NOT_MET' }),
      rewards: [{ rewardId: objectId(), type: 'POINT', name: 'Points', quantity: 10 }],
      slotKey: `own:${id.toHexString()}`,
      createdAt: new Date(now - n * 1000),
      decidedAt: new Date(now - n * 1000),
    };
  });
  await store.collection('claims').insertMany(docs, { ordered: false });
}
// Alternately an event's GRANTED claims (pages 1-5) and one player's claims, 20 per page.
const historyFilter = (i) =>
  i % 2 === 0
    ? { eventId: eventIds[i % eventIds.length], status: 'GRANTED', page: 1 + (i % 5) }
    : { userId: historyUsers[i % historyUsers.length], page: 1 };
const historyLatency = (base, samples) =>
  latencies(samples, (i) => {
    const { page, ...filter } = historyFilter(i);
    return call(base, 'GET', `/claims?${new URLSearchParams({ ...filter, limit: '20', page: String(page) })}`, token);
  });
await historyLatency(gatewayUrl, 20);
const historyGw = await historyLatency(gatewayUrl, SAMPLES);
const historyDirect = await historyLatency(eventUrl, SAMPLES);
const claimsRepository = event.get(ClaimRepository);
const historyStore = await latencies(SAMPLES, (i) => {
  const { page, ...filter } = historyFilter(i);
  return claimsRepository.findPage(filter, (page - 1) * 20, 20);
});

// --- Batch import: 1000-item batches, 4 in flight ---------------------------------------------------
const importItems = (label) =>
  Array.from({ length: 1000 }, () => ({
    userId: objectId(),
    type: 'BOSS_KILL',
    occurredAt: new Date(Date.now() - Math.floor(Math.random() * 86_400_000)).toISOString(),
    externalId: `${label}-${objectId()}`,
  }));
/** Runs `batches` of `runs.importBatch`, 4 in flight, adding the activities inserted, time and CPU to `runs`. */
async function importRound(batches, runs) {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  let next = 0;
  const worker = async () => {
    while (next < batches) {
      next += 1;
      runs.inserted += await runs.importBatch();
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  const { user, system } = process.cpuUsage(cpuBefore);
  runs.seconds += (performance.now() - started) / 1000;
  runs.cpuMs += (user + system) / 1000;
  runs.batches += batches;
}
const overHttp = (base, label) => async () =>
  (await call(base, 'POST', '/activities', token, { items: importItems(label) })).inserted;
// The store alone: the same documents inserted with the driver into the same collection (same indexes),
// no HTTP, no validation. The import can be no faster than this on this store.
const activitiesCollection = store.collection('activities');
const straightIntoTheStore = async () => {
  const createdAt = new Date();
  const docs = importItems('store').map((item) => ({
    ...item,
    occurredAt: new Date(item.occurredAt),
    source: 'IMPORT',
    recordedBy: 'bench',
    createdAt,
  }));
  return (await activitiesCollection.insertMany(docs, { ordered: false })).insertedCount;
};

const BATCHES = Number(process.env.BENCH_IMPORT_BATCHES ?? 20);
const ROUNDS = 4;
const tally = (importBatch) => ({ importBatch, inserted: 0, seconds: 0, cpuMs: 0, batches: 0 });
await importRound(2, tally(overHttp(gatewayUrl, 'warmup')));
// Interleaved rounds, so that none of the three gets an emptier (on some stores faster) collection.
const imports = {
  gateway: tally(overHttp(gatewayUrl, 'gw')),
  direct: tally(overHttp(eventUrl, 'direct')),
  store: tally(straightIntoTheStore),
};
for (let round = 0; round < ROUNDS; round += 1) {
  for (const runs of Object.values(imports)) {
    await importRound(Math.ceil(BATCHES / ROUNDS), runs);
  }
}
const rate = ({ inserted, seconds }) => inserted / seconds;
const [viaGateway, direct, storeImport] = [rate(imports.gateway), rate(imports.direct), rate(imports.store)];
// CPU of this process per batch while importing directly: the event server's work plus the bench client's
// (building and sending the batch), so an upper bound on what the server's code costs per 1000 items.
const cpuPerBatchMs = imports.direct.cpuMs / imports.direct.batches;

// --- Progress for a user with 10,000 activities in the period -----------------------------------------
const player = objectId();
const startAt = new Date(now - 60 * 86_400_000).toISOString();
const endAt = new Date(now + 86_400_000).toISOString();
for (let batch = 0; batch < 10; batch += 1) {
  const items = Array.from({ length: 1000 }, (_, i) => ({
    userId: player,
    type: i % 2 === 0 ? 'LOGIN' : 'BOSS_KILL',
    occurredAt: new Date(now - Math.floor(Math.random() * 59 * 86_400_000)).toISOString(),
    externalId: `p-${batch}-${i}`,
  }));
  await call(gatewayUrl, 'POST', '/activities', token, { items });
}
const created = await call(gatewayUrl, 'POST', '/events', token, {
  title: 'bench',
  startAt,
  endAt,
  status: 'ACTIVE',
  approval: 'AUTO',
  timezone: 'America/New_York',
  condition: {
    type: 'ALL',
    conditions: [
      { type: 'LOGIN_DAYS', days: 30 },
      { type: 'LOGIN_STREAK', days: 7 },
      { type: 'ACTIVITY_COUNT', activity: 'BOSS_KILL', count: 5000 },
    ],
  },
});
const progressLatency = (base, samples) =>
  latencies(samples, () => call(base, 'GET', `/events/${created.id}/progress?userId=${player}`, token));
await progressLatency(gatewayUrl, 20);
const progressGw = await progressLatency(gatewayUrl, SAMPLES);
const progressDirect = await progressLatency(eventUrl, SAMPLES);
// Its two parts alone: the store's read (the server's own repository call) and the evaluation (CPU).
const activities = event.get(ActivityRepository);
const period = { startAt: new Date(startAt), endAt: new Date(endAt), timezone: created.timezone };
const readFacts = () => activities.findFacts(player, factPlanOf(created.condition), period);
const progressStore = await latencies(SAMPLES, readFacts);
const { facts, counts: factCounts } = await readFacts();
const progressCpu = await latencies(SAMPLES, () => evaluateCondition(created.condition, period, facts, factCounts));
// A player who logs in 1,000 times in 17 hours: login days read the quarter-hour marks; beside them, the same
// read of every login (what a condition that also counts logins does, and what login days did before marks).
const frequent = objectId();
await call(gatewayUrl, 'POST', '/activities', token, {
  items: Array.from({ length: 1000 }, (_, i) => ({
    userId: frequent,
    type: 'LOGIN',
    occurredAt: new Date(now - 86_400_000 + i * 60_000).toISOString(),
  })),
});
const loginDays = factPlanOf({ type: 'LOGIN_DAYS', days: 3 });
const everyLogin = { ...loginDays, loginDaysByMarks: false };
const loginsByMark = await latencies(SAMPLES, () => activities.findFacts(frequent, loginDays, period));
const loginsEach = await latencies(SAMPLES, () => activities.findFacts(frequent, everyLogin, period));
const loginEvent = await call(gatewayUrl, 'POST', '/events', token, {
  title: 'bench logins',
  startAt,
  endAt,
  status: 'ACTIVE',
  approval: 'AUTO',
  timezone: 'America/New_York',
  condition: { type: 'LOGIN_DAYS', days: 3 },
});
const frequentProgress = () => send(gatewayUrl, 'GET', `/events/${loginEvent.id}/progress`, playerToken(frequent));
await frequentProgress();
counts['progress check, login days (1,000 logins)'] = await commandsOf(frequentProgress);
const [markedFacts, everyFact] = [
  (await activities.findFacts(frequent, loginDays, period)).facts,
  (await activities.findFacts(frequent, everyLogin, period)).facts,
];

// History: the same claim on a fresh reward and on one with 1,000,000 units of which HISTORY_UNITS are taken.
// Last of the measures: the taken units are claims, and on a store that scans whole collections
// (FerretDB v1) 100,000 more claims would slow every other measure's reads.
const HISTORY_UNITS = Number(process.env.BENCH_TAKEN_UNITS ?? 100_000);
const HISTORY_SAMPLES = Number(process.env.BENCH_HISTORY_SAMPLES ?? 100);
const freshReward = await claimableEvent(1_000_000);
const heavyReward = await claimableEvent(1_000_000);
// The event's only limited reward keeps its units on the claims: the taken units are claims holding them.
for (let start = 0; start < HISTORY_UNITS; start += 10_000) {
  const holders = Array.from({ length: Math.min(10_000, HISTORY_UNITS - start) }, (_, i) =>
    grantedClaimHolding(heavyReward.id, objectId(), heavyReward.rewardId, start + i + 1),
  );
  await store.collection('claims').insertMany(holders, { ordered: false });
}
const historyPlayers = await eligiblePlayers(2 * HISTORY_SAMPLES + 2);
// Each counted claim comes right after a first one on the same event: that one fills the event cache (kept
// CLAIM_CATALOG_TTL_MS, 2 s) and, on the heavy reward, finds the frontier once.
await claimOnce(gatewayUrl, freshReward.id, historyPlayers.pop());
counts['AUTO claim, fresh reward (stock 1,000,000)'] = await commandsOf(() =>
  claimOnce(gatewayUrl, freshReward.id, historyPlayers.pop()),
);
await claimOnce(gatewayUrl, heavyReward.id, historyPlayers.pop());
counts[`AUTO claim, ${HISTORY_UNITS.toLocaleString('en')} of 1,000,000 taken`] = await commandsOf(() =>
  claimOnce(gatewayUrl, heavyReward.id, historyPlayers.pop()),
);
const historyTimes = { fresh: [], heavy: [] };
for (let i = 0; i < HISTORY_SAMPLES - 1; i += 1) {
  for (const [name, reward] of [
    ['fresh', freshReward],
    ['heavy', heavyReward],
  ]) {
    const reply = await claimOnce(gatewayUrl, reward.id, historyPlayers.pop());
    if (reply.body?.status === 'GRANTED') historyTimes[name].push(reply.ms);
  }
}
for (const times of Object.values(historyTimes)) times.sort((a, b) => a - b);

console.log(`\nbench run ${run} on ${mongoUri.replace(/\/\/[^@/]*@/, '//***@')}${benchDb.embedded ? ' (embedded mongod)' : ''}`);
console.log('Each figure is shown beside its baselines from the same run: the same call made directly to the');
console.log("event server (the gateway's share), and the store's own work alone (what no server code can beat).");
console.log(`\nactivity import, ${imports.direct.batches} batches of 1000 items each, 4 in flight    activities/s`);
rateRow('through the gateway', viaGateway);
rateRow('direct to the event server', direct);
rateRow('the store alone (driver insertMany, same collection)', storeImport);
rateRow('gateway / direct', viaGateway / direct, 2);
rateRow('gateway / store alone', viaGateway / storeImport, 2);
rateRow('CPU ms per batch in Node (server + client, direct)', cpuPerBatchMs, 1);
rateRow('  = activities/s one core of server code could take', 1_000_000 / cpuPerBatchMs);
console.log(`\nprogress, 10,000 activities in the period, ${SAMPLES} calls          p50 ms   p99 ms`);
latencyRow('through the gateway', progressGw);
latencyRow('direct to the event server', progressDirect);
latencyRow("the store alone (the server's activity read)", progressStore);
latencyRow('the evaluation alone (CPU, no I/O)', progressCpu);
console.log(`\nlogin days of a player with 1,000 logins in 17 hours, the store's read, ${SAMPLES} calls   p50 ms   p99 ms`);
latencyRow(`quarter-hour marks (${markedFacts.length} read)`, loginsByMark);
latencyRow(`every login (${everyFact.length} read)`, loginsEach);
rateRow('marks / every login, p50', percentile(loginsByMark, 50) / percentile(loginsEach, 50), 2);
console.log("\nstore commands per operation (command monitoring on the event server's driver)");
// The event and webhook caches are read again once per TTL (2 s, 5 s) by whichever request finds them
// expired; on a busy machine that can be a counted one. Shown apart: they are not that request's cost.
const CACHE_REFRESH = new Set(['find events', 'find rewards', 'find webhook_endpoints']);
for (const [label, all] of Object.entries(counts)) {
  // Staff's view reads the event and its rewards itself, every time; players' lists read the events.
  const commands = READS_EVENTS_ITSELF.has(label) ? all : all.filter((command) => !CACHE_REFRESH.has(command));
  const refresh = all.filter((command) => !commands.includes(command) && CACHE_REFRESH.has(command));
  const extra = refresh.length > 0 ? `   (+ cache refresh: ${refresh.join(', ')})` : '';
  console.log(`  ${label.padEnd(52)}  ${String(commands.length).padStart(8)}   ${commands.join(', ')}${extra}`);
}
console.log(`\nclaim latency, sequential, ${HISTORY_SAMPLES} each, interleaved       p50 ms   p99 ms`);
latencyRow('fresh reward (stock 1,000,000)', historyTimes.fresh);
latencyRow(`${HISTORY_UNITS.toLocaleString('en')} of 1,000,000 units taken`, historyTimes.heavy);
rateRow('p50 ratio (taken / fresh)', percentile(historyTimes.heavy, 50) / percentile(historyTimes.fresh, 50), 2);
console.log(
  `\nclaims by ${perRound * CLAIM_ROUNDS} distinct eligible players per path, 16 in flight, median of ${CLAIM_ROUNDS} rounds     claims/s`,
);
rateRow('through the gateway', medianRate(claimRounds.gateway), 0, failed(claimFailures(claimRounds.gateway)));
rateRow('direct to the event server', medianRate(claimRounds.direct), 0, failed(claimFailures(claimRounds.direct)));
rateRow(
  'through the gateway, two event-server replicas',
  medianRate(claimRounds.twoReplicas),
  0,
  // Both replicas run in this process, on its one thread, with the client and the gateways: this shows what
  // spreading over replicas costs, not what it gains. The rows below (and the bursts) run each as a process.
  failed(claimFailures(claimRounds.twoReplicas)) || '   (both in this one process: processes below)',
);
rateRow(
  'through the gateway, servers as processes (as deployed)',
  medianRate(claimRounds.processes),
  0,
  failed(claimFailures(claimRounds.processes)),
);
rateRow(
  '  the same, two event-server replicas',
  medianRate(claimRounds.processesTwoReplicas),
  0,
  failed(claimFailures(claimRounds.processesTwoReplicas)),
);
rateRow(
  '  the same, a bare @fastify/http-proxy for the gateway',
  medianRate(claimRounds.processesBare),
  0,
  failed(claimFailures(claimRounds.processesBare)),
);
if (apart.run) {
  const cores = (list) => (list.length === 1 ? `CPU ${list[0]}` : `CPUs ${list.join(',')}`);
  rateRow(
    `  the same, the store on ${cores(apart.cores.store)}, the rest on ${cores(apart.cores.servers)}`,
    medianRate(claimRounds.processesStoreApart),
    0,
    failed(claimFailures(claimRounds.processesStoreApart)),
  );
  rateRow(`  the store alone (driver insertOne) on ${cores(apart.cores.store)}`, medianRate(claimRounds.storeApart));
} else console.log(`  the same, the store on cores of its own: not measured (${apart.reason})`);
rateRow(
  'through the gateway, no limited reward (born decided)',
  medianRate(claimRounds.unlimited),
  0,
  failed(claimFailures(claimRounds.unlimited)),
);
rateRow('the store alone (driver insertOne, unique index)', medianRate(claimRounds.store));
rateRow("the store alone, a claim's find + insert", medianRate(claimRounds.storeClaim));
rateRow(
  'through the gateway, command monitoring on (counts)',
  medianRate(claimRounds.monitored),
  0,
  failed(claimFailures(claimRounds.monitored)),
);
rateRow('gateway / direct', medianRate(claimRounds.gateway) / medianRate(claimRounds.direct), 2);
rateRow('gateway / store alone (goal >= 0.25)', medianRate(claimRounds.gateway) / medianRate(claimRounds.store), 3);
rateRow('  the same, no limited reward', medianRate(claimRounds.unlimited) / medianRate(claimRounds.store), 2);
rateRow('  the same, servers as processes', medianRate(claimRounds.processes) / medianRate(claimRounds.store), 2);
rateRow('  the same, a bare proxy for the gateway', medianRate(claimRounds.processesBare) / medianRate(claimRounds.store), 2);
if (apart.run) {
  rateRow(
    '  the same, the store on cores of its own (both rates)',
    medianRate(claimRounds.processesStoreApart) / medianRate(claimRounds.storeApart),
    2,
  );
}
rateRow(
  '  the best possible here: its two commands / alone',
  medianRate(claimRounds.storeClaim) / medianRate(claimRounds.store),
  2,
);
rateRow(
  "gateway / the store alone doing a claim's commands",
  medianRate(claimRounds.gateway) / medianRate(claimRounds.storeClaim),
  2,
);
const medianCpu = (rounds, side) => {
  const values = rounds.map((round) => round.cpu?.[side]).filter((value) => value !== undefined);
  return values.length ? median(values) : undefined;
};
console.log('  CPU ms per operation (Node: this process, and the server processes where they run | local store processes):');
for (const [label, rounds] of [
  ['    claim through the gateway', claimRounds.gateway],
  ['    claim direct to the event server', claimRounds.direct],
  ['    claim through the gateway, servers as processes', claimRounds.processes],
  ['      the same, two event-server replicas', claimRounds.processesTwoReplicas],
  ['      the same, a bare proxy for the gateway', claimRounds.processesBare],
  ['      the same, the store on cores of its own', claimRounds.processesStoreApart],
  ['    claim through the gateway, no limited reward', claimRounds.unlimited],
  ['    the store alone, one insertOne', claimRounds.store],
  ['      the same, the store on cores of its own', claimRounds.storeApart],
  ["    the store alone, a claim's find + insert", claimRounds.storeClaim],
]) {
  if (rounds.length === 0) continue;
  const store = medianCpu(rounds, 'store');
  console.log(
    `  ${label.padEnd(52)}  ${fmt(medianCpu(rounds, 'node'), 2)} | ${store === undefined ? '     n/a' : fmt(store, 2)}`,
  );
}
{
  // The process in front of the event server, on its own: the gateway's CPU per claim against a bare proxy's.
  const ownCpu = (rounds, pid) => {
    const values = rounds.map((round) => round.cpu?.each?.get(pid)).filter((value) => value !== undefined);
    return values.length ? median(values) : undefined;
  };
  const gatewayCpu = ownCpu(claimRounds.processes, gatewayProcessId);
  const bareCpu = ownCpu(claimRounds.processesBare, bareProxy.pid);
  if (gatewayCpu !== undefined && bareCpu !== undefined) {
    console.log(
      `  CPU ms per claim of the process in front of the event server: the gateway ${gatewayCpu.toFixed(2)}, a bare proxy ${bareCpu.toFixed(2)} (x${(gatewayCpu / bareCpu).toFixed(2)})`,
    );
  }
}
console.log("  the store's own cost per command a claim makes (driver alone, 16 in flight)   /s   CPU ms: node | store");
for (const [label, { rate, cpu }] of Object.entries(commandCosts)) {
  console.log(
    `    ${label.padEnd(50)}  ${fmt(rate, 0)}   ${fmt(cpu.node, 2)} | ${cpu.store === undefined ? '     n/a' : fmt(cpu.store, 2)}`,
  );
}
{
  const floorCost = commandCosts['insert, floor (one unique index)'].cpu.store;
  const claimCost = medianCpu(claimRounds.direct, 'store');
  if (floorCost && claimCost) rateRow('  a claim costs the store, in floor inserts (CPU)', claimCost / floorCost, 1);
}
// Each kind of command per claim while the claims ran (a cache refresh shows as a small fraction), and its mean time.
for (const [kind, label, rounds] of [
  ['limited', 'one limited reward', claimRounds.monitored],
  ['born', 'no limited reward (born decided)', claimRounds.monitoredBorn],
]) {
  const claims = rounds.reduce((sum, round) => sum + round.claims, 0);
  console.log(`  store commands per claim through the gateway, ${label}, 16 in flight (driver-measured): per claim, mean ms`);
  for (const [name, { count, ms }] of Object.entries(claimCommands[kind])) {
    console.log(`    ${name.padEnd(50)}  ${fmt(count / claims, 2)} ${fmt(ms / count, 2)}`);
  }
}
for (const result of bursts)
  printBurst(result, (label, value) => console.log(`  ${label.padEnd(52)}  ${String(value).padStart(8)}`));
printLogins(logins, (label, value) => console.log(`  ${label.padEnd(52)}  ${String(value).padStart(8)}`));
console.log(`\nGET /claims with a filter over ${HISTORY} claims, ${SAMPLES} calls   p50 ms   p99 ms`);
latencyRow('through the gateway', historyGw);
latencyRow('direct to the event server', historyDirect);
latencyRow("the store alone (the server's page + total read)", historyStore);

// The gateway's own cost: in front of a stub upstream that answers at once, beside a bare @fastify/http-proxy.
const proxy = await benchGateway({ rounds: Number(process.env.BENCH_GATEWAY_ROUNDS ?? 5) });
console.log(
  `\nthe gateway before an instant upstream, authenticated GET, ${proxy.connections} in flight, ${proxy.processes} processes of each     req/s   p50 ms   p99 ms`,
);
for (const [label, f] of [
  ['a bare @fastify/http-proxy', proxy.bare],
  ['the gateway (JWT check, policy, proxy)', proxy.gateway],
]) {
  console.log(`  ${label.padEnd(52)}  ${fmt(f.reqPerSec, 0)} ${fmt(f.p50Ms, 2)} ${fmt(f.p99Ms, 2)}`);
}
rateRow('gateway / bare throughput (goal >= 0.85)', proxy.ratio.throughput, 3);
rateRow('gateway - bare p50 ms (goal <= +1)', proxy.ratio.p50DeltaMs, 2);
if (proxy.ratio.cpu !== undefined) rateRow('gateway / bare CPU per request (each process: /proc)', proxy.ratio.cpu, 2);

for (const pool of claimPools.values()) await pool.close();
await twoReplicaGateway.close();
await plainGateway.close();
await gateway.close();
await eventReplica.close();
await secondReplica.close();
await event.close();
await auth.close();
await store.close();
const cleanup = await mongoose.createConnection(mongoUri).asPromise();
for (const name of [`${run}_auth`, `${run}_event`]) await cleanup.useDb(name).dropDatabase();
await cleanup.close();
await benchDb.stop();
