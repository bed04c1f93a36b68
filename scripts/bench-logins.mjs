#!/usr/bin/env node
// npm run bench:logins — a crowd signing in at once, through the real auth server and gateway (each a process
// of its own, built dist/, as deployed), on MONGODB_URI, at the production bcrypt cost (BCRYPT_ROUNDS, 10).
// PLAYERS accounts are registered first (16 at a time); then every player signs in at once, and retries what
// was not 200 (a 503 or 429 after its Retry-After, anything else after a second, as a client would) until
// signed in or DEADLINE_S after the start. Prints the first answers by status and code, p50/p99, the time
// until the last player was signed in, who was not by the deadline, and how many requests it took. Exported
// as benchLogins() for `npm run bench`; run directly: node scripts/bench-logins.mjs [--players 500]
// [--deadline 120] [--addresses 0]. ADDRESSES > 0: the players sign in from that many loopback addresses (127.1.x.y,
// player i from the (i mod ADDRESSES)-th), as a real crowd does from its own; 0 (the default): all from 127.0.0.1,
// as one PC café, where the auth server's per-client bounds apply to the whole crowd.
import { randomBytes } from 'node:crypto';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { Agent, fetch as fetchVia } from 'undici';
import { countsPerSlot, freePort, retryAfterTally, startChild } from './bench-gateway.mjs';

const SELF = fileURLToPath(import.meta.url);

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

export async function benchLogins({ mongoUri, players = 500, deadlineS = 120, addresses = 0 } = {}) {
  if (!mongoUri) throw new Error('benchLogins needs a MongoDB URI');
  const run = `${process.env.BURST_RUN_PREFIX ?? 'logins'}_${Date.now().toString(36)}_${randomBytes(2).toString('hex')}`;
  const children = [];
  try {
    const authPort = await freePort();
    const gatewayPort = await freePort();
    const auth = startChild(
      ['auth-server/dist/main.js'],
      {
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        MONGODB_URI: mongoUri,
        AUTH_PORT: String(authPort),
        AUTH_DB_NAME: `${run}_auth`,
        BCRYPT_ROUNDS: process.env.BCRYPT_ROUNDS ?? '10',
        // The crowd comes from one address here (the gateway forwards this machine's): no address limit may bite.
        REGISTRATIONS_PER_ADDRESS: String(players * 2),
        OUTBOX_ENABLED: 'false',
        // Any PASSWORD_HASH_* setting of this run's environment replaces the defaults, to try others.
        ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('PASSWORD_HASH_'))),
      },
      { readPort: false, healthUrl: `http://127.0.0.1:${authPort}/health`, readyWithinMs: 60_000 },
    );
    children.push(auth);
    await auth.ready;
    const gateway = startChild(
      ['gateway/dist/main.js'],
      {
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        GATEWAY_PORT: String(gatewayPort),
        // Every player signing in is this one address: no per-address limit (the platform's own is 1,000).
        GATEWAY_MAX_CONNECTIONS_PER_ADDRESS: '0',
        AUTH_SERVICE_URL: `http://127.0.0.1:${authPort}`,
        // No event server in this run (a port where nothing listens): so the gateway is ready when it serves its OpenAPI.
        EVENT_SERVICE_URL: `http://127.0.0.1:${await freePort()}`,
      },
      { readPort: false, healthUrl: `http://127.0.0.1:${gatewayPort}/openapi.json`, readyWithinMs: 60_000 },
    );
    children.push(gateway);
    await gateway.ready;
    const base = `http://127.0.0.1:${gatewayPort}`;

    // One connection pool per client address (linux answers on all of 127.0.0.0/8).
    const agents = Array.from(
      { length: addresses },
      (_, index) => new Agent({ localAddress: `127.1.${Math.floor(index / 250)}.${(index % 250) + 1}` }),
    );
    children.push({ stop: () => Promise.all(agents.map((agent) => agent.close())) });
    const post = async (path, body, player) => {
      const started = performance.now();
      try {
        const request = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
        const response =
          player === undefined || agents.length === 0
            ? await fetch(`${base}${path}`, request)
            : await fetchVia(`${base}${path}`, { ...request, dispatcher: agents[player % agents.length] });
        const answer = await response.json().catch(() => undefined);
        return {
          status: response.status,
          code: answer?.code,
          retryAfter: response.headers.get('retry-after'),
          ms: performance.now() - started,
        };
      } catch (error) {
        return { status: 0, code: String(error.cause?.code ?? error.message), ms: performance.now() - started };
      }
    };
    const accounts = Array.from({ length: players }, (_, index) => ({
      email: `${run}-${index}@example.com`,
      password: `password-${randomBytes(4).toString('hex')}`,
    }));
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < accounts.length) {
          const account = accounts[next++];
          for (;;) {
            const reply = await post('/auth/register', account);
            if (reply.status === 201) break;
            // Answered 504 (or dropped) on a loaded machine, then found registered: registered all the same.
            if (reply.status === 409 && reply.code === 'EMAIL_TAKEN') break;
            if (![503, 504, 502, 0].includes(reply.status)) throw new Error(`register -> ${reply.status} ${reply.code}`);
            await new Promise((done) => setTimeout(done, Number(reply.retryAfter ?? 1) * 1000));
          }
        }
      }),
    );

    const firstWave = [];
    const later = {};
    const told = {};
    const signedInAt = [];
    let requests = 0;
    const started = performance.now();
    // Each player's answers, to be set against the sessions the auth server recorded for them afterwards.
    const answersOf = new Map(accounts.map((account) => [account.email, []]));
    await Promise.all(
      accounts.map(async (account, player) => {
        let reply = await post('/auth/login', account, player);
        requests++;
        firstWave.push(reply);
        answersOf.get(account.email).push(reply);
        while (reply.status !== 200) {
          if (reply.status === 401) throw new Error('a correct password was refused');
          if (reply.retryAfter) told[reply.retryAfter] = (told[reply.retryAfter] ?? 0) + 1;
          const wait = reply.retryAfter && [429, 503].includes(reply.status) ? Number(reply.retryAfter) * 1000 : 1000;
          if (performance.now() + wait - started > deadlineS * 1000) return;
          await new Promise((done) => setTimeout(done, wait));
          reply = await post('/auth/login', account, player);
          requests++;
          answersOf.get(account.email).push(reply);
          const answer = `${reply.status} ${reply.code ?? ''}`.trim();
          later[answer] = (later[answer] ?? 0) + 1;
        }
        signedInAt.push(performance.now() - started);
      }),
    );
    // A session (a refresh-token family) the player never received a token for: recorded behind an answer that
    // was not 200 (a 504 or a dropped connection; a 429 or 503 says that nothing was recorded).
    const store = await new MongoClient(mongoUri).connect();
    const unreceived = {};
    try {
      const db = store.db(`${run}_auth`);
      const ids = new Map((await db.collection('users').find({}).toArray()).map((u) => [String(u._id), u.email]));
      const sessions = new Map();
      for (const token of await db.collection('refresh_tokens').find({ parentId: null }).toArray()) {
        const email = ids.get(String(token.userId));
        sessions.set(email, (sessions.get(email) ?? 0) + 1);
      }
      for (const [email, answers] of answersOf) {
        const extra = (sessions.get(email) ?? 0) - answers.filter((reply) => reply.status === 200).length;
        if (extra <= 0) continue;
        const behind = [...new Set(answers.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.code ?? ''}`.trim()))];
        unreceived[behind.join(', ')] = (unreceived[behind.join(', ')] ?? 0) + extra;
      }
    } finally {
      await store.close();
    }
    const byAnswer = {};
    for (const reply of firstWave) {
      const answer = `${reply.status} ${reply.code ?? ''}`.trim();
      byAnswer[answer] = (byAnswer[answer] ?? 0) + 1;
    }
    const times = firstWave.map((reply) => reply.ms).sort((a, b) => a - b);
    return {
      players,
      addresses,
      deadlineS,
      firstAnswers: byAnswer,
      retryAnswers: later,
      p50Ms: percentile(times, 50),
      p99Ms: percentile(times, 99),
      signedIn: signedInAt.length,
      retryAfterTold: told,
      signedInBySecond: countsPerSlot(signedInAt, 1_000),
      lastSignedInMs: Math.max(0, ...signedInAt),
      requests,
      unreceivedSessions: unreceived,
    };
  } finally {
    for (const child of children.reverse()) await child.stop();
  }
}

/** Prints one sign-in burst's figures as rows. */
export function printLogins(result, row = (label, value) => console.log(`  ${label.padEnd(52)}  ${value}`)) {
  const from = result.addresses > 0 ? `from ${result.addresses} addresses` : 'from one address';
  console.log(`\nsign-in burst: ${result.players} players sign in at once ${from} through the gateway (bcrypt as configured)`);
  row('first answers p50 / p99 ms', `${result.p50Ms.toFixed(0)} / ${result.p99Ms.toFixed(0)}`);
  for (const [answer, count] of Object.entries(result.firstAnswers).sort()) row(`  first answer ${answer}`, count);
  for (const [answer, count] of Object.entries(result.retryAnswers).sort()) row(`  retry answer ${answer}`, count);
  row('Retry-After told (s: times)', retryAfterTally(result.retryAfterTold));
  row('signed in, each second from the start', result.signedInBySecond.join(' '));
  row('until the last player was signed in (s)', (result.lastSignedInMs / 1000).toFixed(1));
  row(`players not signed in within ${result.deadlineS} s`, result.players - result.signedIn);
  row('sign-in requests in all', result.requests);
  for (const [behind, count] of Object.entries(result.unreceivedSessions ?? {}))
    row(`  sessions never received, the player told ${behind}`, count);
}

if (process.argv[1] && resolvePath(process.argv[1]) === SELF) {
  const flag = (name) => {
    const index = process.argv.indexOf(name);
    return index >= 0 ? process.argv[index + 1] : undefined;
  };
  printLogins(
    await benchLogins({
      mongoUri: process.env.MONGODB_URI,
      players: Number(flag('--players') ?? 500),
      deadlineS: Number(flag('--deadline') ?? 120),
      addresses: Number(flag('--addresses') ?? 0),
    }),
  );
}
