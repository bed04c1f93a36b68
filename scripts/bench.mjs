#!/usr/bin/env node
// npm run bench: prints throughput and latency figures of the real servers on a real database.
// Numbers, not assertions: these machines are shared and noisy, so each figure is shown beside a
// baseline measured in the same run (the same call made directly to the event server, skipping the
// gateway), and the ratio between them is what to compare across runs.
//
// Uses MONGODB_URI when set; otherwise starts an embedded MongoDB (mongodb-memory-server).
import { randomBytes } from 'node:crypto';
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

const auth = await createAuthServer(
  loadAuthConfig({
    ...quiet,
    AUTH_DB_NAME: `${run}_auth`,
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    BCRYPT_ROUNDS: '4',
    LOGIN_RATE_LIMIT: '100000',
  }),
);
const authUrl = await listen(auth);
const event = await createEventServer(
  loadEventConfig({ ...quiet, EVENT_DB_NAME: `${run}_event`, AUTH_JWKS_URL: `${authUrl}/.well-known/jwks.json` }),
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

await gateway.close();
await event.close();
await auth.close();
const cleanup = await mongoose.createConnection(mongoUri).asPromise();
for (const name of [`${run}_auth`, `${run}_event`]) await cleanup.useDb(name).dropDatabase();
await cleanup.close();
if (embedded) await embedded.stop();
