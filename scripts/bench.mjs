#!/usr/bin/env node
// npm run bench: prints throughput and latency figures of the real servers on a real database.
// Numbers, not assertions: these machines are shared and noisy, so each figure is shown beside a
// baseline measured in the same run (the same call made directly to the event server, skipping the
// gateway), and the ratio between them is what to compare across runs.
//
// Uses MONGODB_URI when set; otherwise starts an embedded MongoDB (mongodb-memory-server).
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import jwt from 'jsonwebtoken';
import mongoose from 'mongoose';
import { createAuthServer, loadAuthConfig } from '@reward/auth-server/server';
import { createEventServer, loadEventConfig } from '@reward/event-server/server';
import { createGatewayServer, loadGatewayConfig } from '@reward/gateway/server';

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
const playerToken = (userId) =>
  jwt.sign({ sub: userId, roles: ['USER'] }, privateKey, {
    algorithm: 'RS256',
    keyid: kid,
    issuer: 'reward-platform-auth',
    audience: 'reward-platform',
    expiresIn: 3600,
  });

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
const token = login.accessToken;
const objectId = () => randomBytes(12).toString('hex');

// --- Batch import: 1000-item batches, 4 in flight ---------------------------------------------------
async function importThroughput(base, batches, label) {
  const started = performance.now();
  let next = 0;
  let inserted = 0;
  const worker = async () => {
    while (next < batches) {
      next += 1;
      const items = Array.from({ length: 1000 }, () => ({
        userId: objectId(),
        type: 'BOSS_KILL',
        occurredAt: new Date(Date.now() - Math.floor(Math.random() * 86_400_000)).toISOString(),
        externalId: `${label}-${objectId()}`,
      }));
      inserted += (await call(base, 'POST', '/activities', token, { items })).inserted;
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return inserted / ((performance.now() - started) / 1000);
}

const BATCHES = Number(process.env.BENCH_IMPORT_BATCHES ?? 20);
await importThroughput(gatewayUrl, 2, 'warmup');
const viaGateway = await importThroughput(gatewayUrl, BATCHES, 'gw');
const direct = await importThroughput(eventUrl, BATCHES, 'direct');

// --- Progress for a user with 10,000 activities in the period -----------------------------------------
const player = objectId();
const now = Date.now();
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
async function progressLatency(base, samples) {
  const times = [];
  for (let i = 0; i < samples; i += 1) {
    const started = performance.now();
    await call(base, 'GET', `/events/${created.id}/progress?userId=${player}`, token);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}
const SAMPLES = Number(process.env.BENCH_PROGRESS_SAMPLES ?? 200);
await progressLatency(gatewayUrl, 20);
const progressGw = await progressLatency(gatewayUrl, SAMPLES);
const progressDirect = await progressLatency(eventUrl, SAMPLES);

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
  const started = performance.now();
  const worker = async () => {
    while (next < ids.length) {
      const userId = ids[next];
      next += 1;
      const claim = await call(base, 'POST', `/events/${claimable.id}/claims`, playerToken(userId));
      if (claim.status === 'GRANTED') granted += 1;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  if (granted !== players) throw new Error(`expected ${players} grants, got ${granted}`);
  return players / ((performance.now() - started) / 1000);
}
const CLAIM_PLAYERS = Number(process.env.BENCH_CLAIM_PLAYERS ?? 400);
await claimThroughput(gatewayUrl, 50);
const claimsGw = await claimThroughput(gatewayUrl, CLAIM_PLAYERS);
const claimsDirect = await claimThroughput(eventUrl, CLAIM_PLAYERS);

// --- GET /claims with a filter over 100,000 claims ----------------------------------------------------
const HISTORY = Number(process.env.BENCH_HISTORY_CLAIMS ?? 100_000);
const seed = await mongoose.createConnection(mongoUri, { dbName: `${run}_event` }).asPromise();
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
  await seed.collection('claims').insertMany(docs, { ordered: false });
}
await seed.close();
async function historyLatency(base, samples) {
  const times = [];
  for (let i = 0; i < samples; i += 1) {
    const query =
      i % 2 === 0
        ? `eventId=${eventIds[i % eventIds.length]}&status=GRANTED&limit=20&page=${1 + (i % 5)}`
        : `userId=${historyUsers[i % historyUsers.length]}&limit=20`;
    const started = performance.now();
    await call(base, 'GET', `/claims?${query}`, token);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}
await historyLatency(gatewayUrl, 20);
const historyGw = await historyLatency(gatewayUrl, SAMPLES);
const historyDirect = await historyLatency(eventUrl, SAMPLES);

console.log(`\nbench run ${run} on ${mongoUri.replace(/\/\/[^@/]*@/, '//***@')}${embedded ? ' (embedded mongod)' : ''}`);
console.log('\nactivity import, 1000-item batches, 4 in flight          activities/s');
console.log(`  through the gateway                                   ${fmt(viaGateway, 0)}`);
console.log(`  direct to the event server (baseline)                 ${fmt(direct, 0)}`);
console.log(`  gateway / direct                                      ${fmt(viaGateway / direct, 2)}`);
console.log(`\nprogress, 10,000 activities in the period, ${SAMPLES} sequential calls   p50 ms   p99 ms`);
console.log(
  `  through the gateway                                   ${fmt(percentile(progressGw, 50), 2)} ${fmt(percentile(progressGw, 99), 2)}`,
);
console.log(
  `  direct to the event server (baseline)                 ${fmt(percentile(progressDirect, 50), 2)} ${fmt(percentile(progressDirect, 99), 2)}`,
);

console.log(`\nclaims by ${CLAIM_PLAYERS} distinct eligible players, 8 in flight       claims/s`);
console.log(`  through the gateway                                   ${fmt(claimsGw, 0)}`);
console.log(`  direct to the event server (baseline)                 ${fmt(claimsDirect, 0)}`);
console.log(`  gateway / direct                                      ${fmt(claimsGw / claimsDirect, 2)}`);
console.log(`\nGET /claims with a filter over ${HISTORY} claims, ${SAMPLES} calls          p50 ms   p99 ms`);
console.log(
  `  through the gateway                                   ${fmt(percentile(historyGw, 50), 2)} ${fmt(percentile(historyGw, 99), 2)}`,
);
console.log(
  `  direct to the event server (baseline)                 ${fmt(percentile(historyDirect, 50), 2)} ${fmt(percentile(historyDirect, 99), 2)}`,
);

await gateway.close();
await event.close();
await auth.close();
const cleanup = await mongoose.createConnection(mongoUri).asPromise();
for (const name of [`${run}_auth`, `${run}_event`]) await cleanup.useDb(name).dropDatabase();
await cleanup.close();
if (embedded) await embedded.stop();
