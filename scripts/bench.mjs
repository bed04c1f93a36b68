#!/usr/bin/env node
// npm run bench: prints throughput and latency figures of the real servers on a real database.
// Numbers, not assertions: these machines are shared and noisy, so each figure is shown beside baselines
// measured in the same run (the same call made directly to the event server, skipping the gateway; the
// store's own work alone), and the ratios between them are what to compare across runs.
//
// Uses MONGODB_URI when set; otherwise starts an embedded MongoDB (mongodb-memory-server).
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import jwt from 'jsonwebtoken';
import mongoose from 'mongoose';
import { createAuthServer, loadAuthConfig } from '@reward/auth-server/server';
import { createEventServer, loadEventConfig } from '@reward/event-server/server';
import { createGatewayServer, loadGatewayConfig } from '@reward/gateway/server';
// Internals of the built event server, to time the store's share and the evaluator's share on their own.
import { ActivityRepository } from '../event-server/dist/activities/activity.repository.js';
import { ClaimRepository } from '../event-server/dist/claims/claim.repository.js';
import { activityTypesOf, evaluateCondition } from '../event-server/dist/conditions/condition.evaluator.js';

const ADMIN = { email: 'bench-admin@example.com', password: 'bench-admin-password' };
const run = `bench_${Date.now().toString(36)}_${randomBytes(2).toString('hex')}`;

let embedded;
let mongoUri = process.env.MONGODB_URI;
if (!mongoUri) {
  const { MongoMemoryServer } = await import('mongodb-memory-server-core');
  embedded = await MongoMemoryServer.create();
  mongoUri = embedded.getUri();
}

const quiet = { NODE_ENV: 'test', LOG_LEVEL: 'silent', MONGODB_URI: mongoUri };
async function listen(app) {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (await app.getUrl()).replace('[::1]', '127.0.0.1');
}

// The bench holds the signing key so it can mint tokens for thousands of players without registering them.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const kid = await calculateJwkThumbprint(createPublicKey(privateKey).export({ format: 'jwk' }));
// Valid for a day: a full run on a slow store outlasts the 15 minutes of a real access token.
const mintToken = (sub, roles) =>
  jwt.sign({ sub, roles }, privateKey, {
    algorithm: 'RS256',
    keyid: kid,
    issuer: 'reward-platform-auth',
    audience: 'reward-platform',
    expiresIn: 24 * 3600,
  });
const playerToken = (userId) => mintToken(userId, ['USER']);

const auth = await createAuthServer(
  loadAuthConfig({
    ...quiet,
    AUTH_DB_NAME: `${run}_auth`,
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    BCRYPT_ROUNDS: '4',
    LOGIN_RATE_LIMIT: '100000',
    OUTBOX_ENABLED: 'false',
    JWT_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  }),
);
const authUrl = await listen(auth);
const event = await createEventServer(
  loadEventConfig({
    ...quiet,
    EVENT_DB_NAME: `${run}_event`,
    AUTH_JWKS_URL: `${authUrl}/.well-known/jwks.json`,
    CLAIM_RECONCILE_INTERVAL_MS: '0',
  }),
);
const eventUrl = await listen(event);
const gateway = await createGatewayServer(
  loadGatewayConfig({ ...quiet, AUTH_SERVICE_URL: authUrl, EVENT_SERVICE_URL: eventUrl }),
);
const gatewayUrl = await listen(gateway);

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

// Claims and claim history run first: on a store that scans whole collections (FerretDB v1), the
// import and progress phases' 50,000 activities would otherwise be read by every claim's eligibility check.
const now = Date.now();
const SAMPLES = Number(process.env.BENCH_PROGRESS_SAMPLES ?? 200);
// A plain connection to the event database: to seed claims and to time the store's own work.
const store = await mongoose.createConnection(mongoUri, { dbName: `${run}_event` }).asPromise();

// --- Claims/s for distinct eligible players ----------------------------------------------------------
async function claimThroughput(base, players) {
  const claimable = await call(gatewayUrl, 'POST', '/events', token, {
    title: 'bench claims',
    startAt: new Date(now - 3_600_000).toISOString(),
    endAt: new Date(now + 86_400_000).toISOString(),
    status: 'ACTIVE',
    approval: 'AUTO',
    condition: { type: 'ACTIVITY_COUNT', activity: 'BENCH_ELIGIBLE', count: 1 },
  });
  await call(gatewayUrl, 'POST', `/events/${claimable.id}/rewards`, token, {
    type: 'POINT',
    name: 'Points',
    quantity: 10,
    stock: players,
  });
  const ids = Array.from({ length: players }, objectId);
  for (let start = 0; start < ids.length; start += 1000) {
    const items = ids.slice(start, start + 1000).map((userId) => ({ userId, type: 'BENCH_ELIGIBLE' }));
    await call(gatewayUrl, 'POST', '/activities', token, { items });
  }
  let next = 0;
  let granted = 0;
  const outcome = { failures: 0, lastError: undefined };
  const started = performance.now();
  const worker = async () => {
    while (next < ids.length) {
      const userId = ids[next];
      next += 1;
      try {
        const claim = await call(base, 'POST', `/events/${claimable.id}/claims`, playerToken(userId));
        if (claim.status === 'GRANTED') granted += 1;
      } catch (error) {
        outcome.failures += 1;
        outcome.lastError = error;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  if (granted + outcome.failures !== players) throw new Error(`expected ${players} grants, got ${granted}`);
  return { rate: granted / ((performance.now() - started) / 1000), ...outcome };
}
const CLAIM_PLAYERS = Number(process.env.BENCH_CLAIM_PLAYERS ?? 400);
await claimThroughput(gatewayUrl, 50);
const claimsGw = await claimThroughput(gatewayUrl, CLAIM_PLAYERS);
const claimsDirect = await claimThroughput(eventUrl, CLAIM_PLAYERS);

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
const readFacts = () => activities.findFacts(player, activityTypesOf(created.condition), period.startAt, period.endAt);
const progressStore = await latencies(SAMPLES, readFacts);
const facts = await readFacts();
const progressCpu = await latencies(SAMPLES, () => evaluateCondition(created.condition, period, facts));

console.log(`\nbench run ${run} on ${mongoUri.replace(/\/\/[^@/]*@/, '//***@')}${embedded ? ' (embedded mongod)' : ''}`);
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
console.log(`\nclaims by ${CLAIM_PLAYERS} distinct eligible players, 8 in flight       claims/s`);
rateRow('through the gateway', claimsGw.rate, 0, failed(claimsGw));
rateRow('direct to the event server', claimsDirect.rate, 0, failed(claimsDirect));
rateRow('gateway / direct', claimsGw.rate / claimsDirect.rate, 2);
console.log(`\nGET /claims with a filter over ${HISTORY} claims, ${SAMPLES} calls   p50 ms   p99 ms`);
latencyRow('through the gateway', historyGw);
latencyRow('direct to the event server', historyDirect);
latencyRow("the store alone (the server's page + total read)", historyStore);

await gateway.close();
await event.close();
await auth.close();
await store.close();
const cleanup = await mongoose.createConnection(mongoUri).asPromise();
for (const name of [`${run}_auth`, `${run}_event`]) await cleanup.useDb(name).dropDatabase();
await cleanup.close();
if (embedded) await embedded.stop();
