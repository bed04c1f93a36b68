#!/usr/bin/env node
// npm run bench:hardening: is the auth server still answering while anonymous clients flood /auth/login with
// the largest bodies they may send? Prints /health and a normal login's latency under 50 parallel
// maximum-size deeply nested JSON bodies (and as many values as fit), next to the same under 50 parallel flat
// bodies of the same size.
// Numbers, not assertions (shared, noisy machines): the ratio deep/flat is what to compare.
//
// The three servers run as their own processes (as in production), so the load generator here does not share
// their event loop. Uses MONGODB_URI when set; otherwise starts an embedded MongoDB (mongodb-memory-server).
import { benchStore } from './bench-store.mjs';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PARALLEL = 50;
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 8_000);
const BODY_LIMIT = 1024 * 1024;
const run = `benchh_${Date.now().toString(36)}_${randomBytes(2).toString('hex')}`;

const benchDb = await benchStore();
const mongoUri = benchDb.uri;

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const [authPort, eventPort, gatewayPort] = [await freePort(), await freePort(), await freePort()];
const urls = {
  auth: `http://127.0.0.1:${authPort}`,
  event: `http://127.0.0.1:${eventPort}`,
  gateway: `http://127.0.0.1:${gatewayPort}`,
};
const env = {
  ...process.env,
  NODE_ENV: 'test',
  LOG_LEVEL: 'warn',
  MONGODB_URI: mongoUri,
  AUTH_PORT: String(authPort),
  EVENT_PORT: String(eventPort),
  GATEWAY_PORT: String(gatewayPort),
  AUTH_DB_NAME: `${run}_auth`,
  EVENT_DB_NAME: `${run}_event`,
  AUTH_SERVICE_URL: urls.auth,
  EVENT_SERVICE_URL: urls.event,
  AUTH_JWKS_URL: `${urls.auth}/.well-known/jwks.json`,
  OUTBOX_ENABLED: 'false',
};
const children = ['auth-server', 'event-server', 'gateway'].map((name) =>
  spawn(process.execPath, [join(root, name, 'dist/main.js')], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] }),
);

async function stopAll() {
  await Promise.all(
    children.map((child) =>
      child.exitCode !== null ? undefined : new Promise((resolve) => child.once('exit', resolve).kill('SIGTERM')),
    ),
  );
  await benchDb.stop();
}

async function waitHealthy() {
  for (let i = 0; i < 300; i += 1) {
    const status = await fetch(`${urls.gateway}/health`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the servers did not become healthy');
}

// A body of exactly the size limit: a password, then padding that is one deep nest (refused at the 33rd level),
// half a million values (refused past 100,000), or one long string (flat: parsed and validated in full, the
// baseline). No email, so the login throttle (which counts per named account) leaves all three alone.
const prefix = '{"password":"not-the-password","pad":';
const room = BODY_LIMIT - prefix.length - 1;
const deepBody = `${prefix}${'['.repeat(Math.floor(room / 2))}${']'.repeat(Math.floor(room / 2))}}`;
const wideBody = `${prefix}[${'0,'.repeat(Math.floor((room - 3) / 2))}0]}`;
const flatBody = `${prefix}"${'a'.repeat(room - 2)}"}`;

/** Sends `body` to /auth/login from `PARALLEL` clients back to back until `stop` resolves; counts the answers. */
async function flood(base, body, stop) {
  const statuses = new Map();
  let stopped = false;
  void stop.then(() => (stopped = true));
  const client = async () => {
    while (!stopped) {
      const status = await fetch(`${base}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      }).then(
        async (response) => {
          await response.arrayBuffer();
          return response.status;
        },
        (error) => `error:${error.cause?.code ?? error.message}`,
      );
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, client));
  return statuses;
}

/** While the flood runs: /health of the server under attack and a real login, one after the other. */
async function probe(base, credentials, stop) {
  const health = [];
  const login = [];
  let stopped = false;
  void stop.then(() => (stopped = true));
  while (!stopped) {
    let started = performance.now();
    const healthStatus = await fetch(`${base}/health`).then(
      (response) => response.status,
      () => 0,
    );
    health.push({ status: healthStatus, ms: performance.now() - started });
    started = performance.now();
    const loginStatus = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(credentials),
    }).then(
      (response) => response.status,
      () => 0,
    );
    login.push({ status: loginStatus, ms: performance.now() - started });
  }
  return { health, login };
}

/** Until a login answers in under half a second three times in a row (at most a minute). */
async function drained(base, credentials) {
  let fast = 0;
  for (let i = 0; i < 600 && fast < 3; i += 1) {
    const started = performance.now();
    const status = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(credentials),
    }).then(
      (response) => response.status,
      () => 0,
    );
    fast = status === 200 && performance.now() - started < 500 ? fast + 1 : 0;
    if (fast < 3) await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const ms = (value) => `${Number.isNaN(value) ? '-' : value.toFixed(0)} ms`;
const tally = (samples) =>
  [...samples.reduce((counts, sample) => counts.set(sample.status, (counts.get(sample.status) ?? 0) + 1), new Map())]
    .map(([status, count]) => `${status}×${count}`)
    .join(' ');

try {
  await waitHealthy();
  const credentials = { email: `bench-${run}@example.com`, password: 'a-long-password' };
  const registered = await fetch(`${urls.gateway}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(credentials),
  });
  if (registered.status !== 201) throw new Error(`register answered ${registered.status}`);

  process.stdout.write(
    `\n/auth/login flooded by ${PARALLEL} parallel anonymous clients, ${(BODY_LIMIT / 1024).toFixed(0)} KB bodies, ${ROUND_MS / 1000} s per row\n`,
  );
  process.stdout.write(
    'target    body  flood answers                     /health (status, p50, p95)          login (status, p50, p95)\n',
  );
  const rows = {};
  for (const target of ['auth', 'gateway']) {
    for (const [kind, body] of [
      ['deep', deepBody],
      ['wide', wideBody],
      ['flat', flatBody],
    ]) {
      // Each row starts on a server that finished the previous row's backlog.
      await drained(urls[target], credentials);
      let end;
      const stop = new Promise((resolve) => (end = resolve));
      const timer = setTimeout(end, ROUND_MS);
      const [statuses, samples] = await Promise.all([flood(urls[target], body, stop), probe(urls[target], credentials, stop)]);
      clearTimeout(timer);
      const loginMs = samples.login.map((sample) => sample.ms);
      rows[`${target}:${kind}`] = percentile(loginMs, 50);
      process.stdout.write(
        `${target.padEnd(9)} ${kind.padEnd(5)} ${[...statuses]
          .map(([status, count]) => `${status}×${count}`)
          .join(' ')
          .padEnd(33)} ` +
          `${tally(samples.health).padEnd(10)} ${ms(
            percentile(
              samples.health.map((s) => s.ms),
              50,
            ),
          ).padEnd(8)} ${ms(
            percentile(
              samples.health.map((s) => s.ms),
              95,
            ),
          ).padEnd(15)} ` +
          `${tally(samples.login).padEnd(10)} ${ms(percentile(loginMs, 50)).padEnd(8)} ${ms(percentile(loginMs, 95))}\n`,
      );
    }
  }
  for (const target of ['auth', 'gateway']) {
    const ratio = rows[`${target}:deep`] / rows[`${target}:flat`];
    process.stdout.write(`${target}: login p50 under deep bodies / under flat bodies = ${ratio.toFixed(2)} (the bound is 2)\n`);
  }
} finally {
  await stopAll();
}
