#!/usr/bin/env node
// npm run bench:payout: the payout webhooks of the real event server on a real database. Prints figures,
// asserts nothing (the machines are shared and noisy; compare the side-by-side figures of one run):
//   1. a claim's latency with no webhook endpoint vs two endpoints subscribed, in alternating rounds (each
//      longer than the relay's longest wait for quiet claims, so its work under sustained claims is in them);
//   2. a burst of 1,000 grants all delivered to a receiver that answers at once: deliveries/s and the lag
//      from each grant's answer to its webhook's arrival (p50/p99);
//   3. an outage: 300 grants (BENCH_PAYOUT_OUTAGE) to a receiver answering 503: how fast the relay records the
//      failed attempts (each then waits 10 minutes for its retry) and its store commands per attempt; then
//      the receiver answers again and an operator sends the pending deliveries now (send-pending): the time
//      until the last one arrived. `--outage-only` runs this part alone.
// Uses MONGODB_URI when set; otherwise starts an embedded MongoDB (mongodb-memory-server).
import { benchStore } from './bench-store.mjs';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { createServer } from 'node:http';
import { getConnectionToken } from '@nestjs/mongoose';
import { createEventServer, loadEventConfig } from '@reward/event-server/server';
import { createClaimableEvent, fetchApi, makeEligible } from '../test-support/claimable-event.ts';
import { TokenForge } from '../test-support/tokens.ts';

const BURST = Number(process.env.BENCH_PAYOUT_GRANTS ?? 1000);
const IN_FLIGHT = 16;
const LATENCY_ROUNDS = 4;
const LATENCY_CLAIMS_PER_ROUND = Number(process.env.BENCH_PAYOUT_ROUND_CLAIMS ?? 200);
const RELAY_INTERVAL_MS = process.env.PAYOUT_RELAY_INTERVAL_MS ?? '100';
const OUTAGE = Number(process.env.BENCH_PAYOUT_OUTAGE ?? 300);
const OUTAGE_ONLY = process.argv.includes('--outage-only');
const run = `benchpay_${Date.now().toString(36)}_${randomBytes(2).toString('hex')}`;

const benchDb = await benchStore();
const mongoUri = benchDb.uri;

// A stand-in auth server: only its JWKS (the tests' token forge), so the bench can mint tokens for thousands of players.
const forge = TokenForge.generate();
const jwks = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(forge.jwks));
});
await new Promise((resolve) => jwks.listen(0, '127.0.0.1', resolve));
const mint = (sub, roles) => forge.sign({ sub, roles }, { expiresInSeconds: 24 * 3600 });
const newId = () => randomBytes(12).toString('hex');

// The game's receiver: answers 204 at once and notes when each claim's webhook arrived.
const arrivals = new Map();
const copies = new Map();
let received = 0;
/** The receiver's answer: 204, or 503 while the game is down (part 3). */
let receiverStatus = 204;
let refused = 0;
const receiver = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    if (receiverStatus !== 204) {
      refused += 1;
      res.writeHead(receiverStatus).end();
      return;
    }
    received += 1;
    const claimId = JSON.parse(Buffer.concat(chunks).toString('utf8')).data.id;
    if (!arrivals.has(claimId)) arrivals.set(claimId, performance.now());
    copies.set(claimId, (copies.get(claimId) ?? 0) + 1);
    res.writeHead(204).end();
  });
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverUrl = `http://127.0.0.1:${receiver.address().port}`;

const app = await createEventServer(
  loadEventConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    MONGODB_URI: `${mongoUri}${mongoUri.includes('?') ? '&' : '?'}monitorCommands=true`,
    EVENT_DB_NAME: run,
    AUTH_JWKS_URL: `http://127.0.0.1:${jwks.address().port}/.well-known/jwks.json`,
    CLAIM_RECONCILE_INTERVAL_MS: '0',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    PAYOUT_RELAY_INTERVAL_MS: RELAY_INTERVAL_MS,
    // Part 3's failed attempts wait for their retry for the whole of the bench.
    WEBHOOK_RETRY_SCHEDULE_SECONDS: '600,3600',
    // Every command is counted: no login mark sweep after the one at start.
    LOGIN_MARK_SWEEP_MS: '0',
  }),
);
await app.listen({ host: '127.0.0.1', port: 0 });
// Every store command the server makes (claim path and relay alike), by "command collection": each is a
// round trip on MongoDB and a table scan on FerretDB, so the relay's count per delivery is its cost.
const commands = new Map();
let counting = false;
app
  .get(getConnectionToken())
  .getClient()
  .on('commandStarted', (event) => {
    if (!counting) return;
    const collection = event.command[event.commandName];
    const key = `${event.commandName} ${typeof collection === 'string' ? collection : ''}`.trim();
    commands.set(key, (commands.get(key) ?? 0) + 1);
  });
/** The commands counted while `work` ran, by kind, and their total. */
async function countCommands(work) {
  commands.clear();
  counting = true;
  try {
    await work();
  } finally {
    counting = false;
  }
  const byKind = new Map(commands);
  return { byKind, total: [...byKind.values()].reduce((sum, n) => sum + n, 0) };
}
const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
const admin = mint(newId(), ['ADMIN']);

async function call(method, path, token, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body && { 'content-type': 'application/json' }) },
    body: body && JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} -> ${response.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : undefined;
}

/** A claim by a fresh eligible player: its answer and how long it took. */
async function claimOnce(eventId, userId) {
  // The token is signed before the clock starts: RS256 signing is the bench's cost, not the claim's.
  const authorization = `Bearer ${mint(userId, ['USER'])}`;
  const started = performance.now();
  const response = await fetch(`${base}/events/${eventId}/claims`, { method: 'POST', headers: { authorization } });
  const body = await response.json();
  const ended = performance.now();
  if (response.status !== 201) throw new Error(`claim -> ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
  return { id: body.id, ms: ended - started, at: ended };
}

// The tests' claimable-event fixture, straight to the event server: an AUTO event with one unlimited reward.
const api = fetchApi(base);
async function eligiblePlayers(count) {
  const users = Array.from({ length: count }, newId);
  await makeEligible(api, admin, 'BENCH_PAYOUT', users);
  return users;
}

const event = await createClaimableEvent(api, admin, {
  title: 'Payout bench',
  activity: 'BENCH_PAYOUT',
  rewards: [{ type: 'POINT', name: 'Gems', quantity: 10 }],
});
const players = await eligiblePlayers((OUTAGE_ONLY ? 0 : BURST + LATENCY_ROUNDS * LATENCY_CLAIMS_PER_ROUND * 2) + OUTAGE + 10);
let nextPlayer = 0;
const player = () => players[nextPlayer++];
await claimOnce(event.id, player()); // warms the event cache and the connection pool

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const fmt = (value) => value.toFixed(1).padStart(8);
const ratio = (value) => value.toFixed(2).padStart(8);

// The bench's own status polls are store commands too: counted once here, subtracted from the relay's.
const pendingPoll = () => call('GET', `/claims?eventId=${event.id}&payoutStatus=PENDING&limit=1`, admin);
const pollCost = await countCommands(pendingPoll);
let polls = 0;

/** Waits until every claim has `count` webhooks and no claim of the event shows payout PENDING. */
async function settle(claimIds, count) {
  const deadline = Date.now() + 5 * 60_000;
  const done = async () => claimIds.every((id) => (copies.get(id) ?? 0) >= count) && (polls++, (await pendingPoll()).total === 0);
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('the webhooks of a latency round did not settle within 5 minutes');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const kinds = (byKind, per) =>
  [...byKind]
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, n]) => `${kind} ${(n / per).toFixed(2)}`)
    .join(', ');

if (!OUTAGE_ONLY) {
  // 1. Claim latency, side by side: rounds alternate between no endpoint and two endpoints subscribed. Each
  // round's webhooks are all delivered (and its claims' payout summaries written) before the next round
  // starts, so the relay's work lands in the round that caused it and never in a "none" round.
  const latency = { none: [], two: [] };
  const roundRatios = [];
  const latencyCommands = { none: { total: 0, byKind: new Map() }, two: { total: 0, byKind: new Map() } };
  for (let round = 0; round < LATENCY_ROUNDS; round += 1) {
    const inRound = { none: [], two: [] };
    for (const mode of round % 2 === 0 ? ['none', 'two'] : ['two', 'none']) {
      const endpoints = [];
      if (mode === 'two') {
        for (const path of ['/a', '/b']) {
          endpoints.push(
            await call('POST', '/webhook-endpoints', admin, { url: `${receiverUrl}${path}`, events: ['claim.granted'] }),
          );
        }
      }
      const ids = [];
      polls = 0;
      const counted = await countCommands(async () => {
        for (let i = 0; i < LATENCY_CLAIMS_PER_ROUND; i += 1) {
          const grant = await claimOnce(event.id, player());
          latency[mode].push(grant.ms);
          inRound[mode].push(grant.ms);
          ids.push(grant.id);
        }
        if (mode === 'two') await settle(ids, endpoints.length);
      });
      latencyCommands[mode].total += counted.total - polls * pollCost.total;
      for (const [kind, n] of counted.byKind)
        latencyCommands[mode].byKind.set(
          kind,
          (latencyCommands[mode].byKind.get(kind) ?? 0) + n - polls * (pollCost.byKind.get(kind) ?? 0),
        );
      for (const endpoint of endpoints) await call('DELETE', `/webhook-endpoints/${endpoint.id}`, admin);
    }
    roundRatios.push({ none: percentile(inRound.none, 50), two: percentile(inRound.two, 50) });
  }

  // 2. The burst: one endpoint, BURST grants with IN_FLIGHT claims at a time, every webhook awaited.
  const endpoint = await call('POST', '/webhook-endpoints', admin, { url: `${receiverUrl}/burst`, events: ['claim.granted'] });
  arrivals.clear();
  const grants = [];
  commands.clear();
  counting = true;
  const burstStart = performance.now();
  const burstPlayers = Array.from({ length: BURST }, player);
  let cursor = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (cursor < burstPlayers.length) grants.push(await claimOnce(event.id, burstPlayers[cursor++]));
    }),
  );
  const grantsDone = performance.now();
  const deadline = Date.now() + 10 * 60_000;
  while (grants.some((grant) => !arrivals.has(grant.id)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await settle(
    grants.map((grant) => grant.id),
    1,
  ).catch(() => undefined);
  counting = false;
  const burstCommands = new Map(commands);
  const lastArrival = Math.max(...grants.map((grant) => arrivals.get(grant.id) ?? 0));
  const delivered = grants.filter((grant) => arrivals.has(grant.id));
  const lags = delivered.map((grant) => arrivals.get(grant.id) - grant.at);
  const payoutDelivered = (await call('GET', `/claims?eventId=${event.id}&payoutStatus=DELIVERED&limit=1`, admin)).total;
  await call('DELETE', `/webhook-endpoints/${endpoint.id}`, admin);

  console.log(
    `\npayout bench  (store: ${process.env.MONGODB_URI ? 'MONGODB_URI' : 'embedded MongoDB'}, relay every ${RELAY_INTERVAL_MS} ms, load average ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')})`,
  );
  console.log('\nclaim latency (ms), sequential claims, rounds alternating          p50      p99');
  console.log(
    `  no webhook endpoint (${latency.none.length} claims)                              ${fmt(percentile(latency.none, 50))} ${fmt(percentile(latency.none, 99))}`,
  );
  console.log(
    `  two endpoints subscribed (${latency.two.length} claims)                         ${fmt(percentile(latency.two, 50))} ${fmt(percentile(latency.two, 99))}`,
  );
  console.log(
    `  ratio two / none                                                ${ratio(percentile(latency.two, 50) / percentile(latency.none, 50))} ${ratio(percentile(latency.two, 99) / percentile(latency.none, 99))}`,
  );
  console.log(
    `  each round pair, p50 none / two = ratio                        ${roundRatios.map(({ none, two }) => `${none.toFixed(1)}/${two.toFixed(1)}=${(two / none).toFixed(2)}`).join('  ')}`,
  );
  const perClaim = (mode) => latencyCommands[mode].total / latency[mode].length;
  console.log(
    `  store commands per claim, incl. the relay's work (none / two)   ${fmt(perClaim('none'))} ${fmt(perClaim('two'))}`,
  );
  console.log(
    `  the relay's commands per delivery (two - none, / 2)             ${fmt((perClaim('two') - perClaim('none')) / 2)}`,
  );

  console.log(`    none, per claim: ${kinds(latencyCommands.none.byKind, latency.none.length)}`);
  console.log(`    two, per claim:  ${kinds(latencyCommands.two.byKind, latency.two.length)}`);
  console.log(`\nburst of ${BURST} grants (${IN_FLIGHT} claims in flight), one endpoint answering at once`);
  console.log(`  grants/s                                  ${fmt(BURST / ((grantsDone - burstStart) / 1000))}`);
  console.log(
    `  delivered                                 ${String(delivered.length).padStart(8)} of ${BURST} (requests received: ${received}, claims with payout DELIVERED: ${payoutDelivered})`,
  );
  console.log(`  deliveries/s (burst start -> last webhook) ${fmt(delivered.length / ((lastArrival - burstStart) / 1000))}`);
  console.log(`  grant -> delivery lag (ms)          p50 ${fmt(percentile(lags, 50))}   p99 ${fmt(percentile(lags, 99))}`);
  const burstTotal = [...burstCommands.values()].reduce((sum, n) => sum + n, 0);
  console.log(`  store commands per grant, claim and delivery together  ${fmt(burstTotal / BURST)}`);
  console.log(`    per grant: ${kinds(burstCommands, BURST)}`);
}

// 3. An outage: the receiver answers 503; every grant's first attempt fails and is recorded (its retry ten
// minutes away). Then the receiver is back and an operator sends the pending deliveries now.
{
  const outageEndpoint = await call('POST', '/webhook-endpoints', admin, {
    url: `${receiverUrl}/outage`,
    events: ['claim.granted'],
  });
  const deliveries = app.get(getConnectionToken()).collection('payout_deliveries');
  const attempted = () => deliveries.countDocuments({ endpointId: outageEndpoint.id, attempts: { $gte: 1 } });
  receiverStatus = 503;
  refused = 0;
  arrivals.clear();
  const outageGrants = [];
  const outagePlayers = Array.from({ length: OUTAGE }, player);
  let next = 0;
  const started = performance.now();
  const counted = await countCommands(async () => {
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < outagePlayers.length) outageGrants.push(await claimOnce(event.id, outagePlayers[next++]));
      }),
    );
    const until = Date.now() + 10 * 60_000;
    while ((await attempted()) < OUTAGE && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
  });
  const recorded = performance.now();
  const failed = await attempted();
  receiverStatus = 204;
  const sent = performance.now();
  const answer = await call('POST', `/webhook-endpoints/${outageEndpoint.id}/send-pending`, admin);
  const until = Date.now() + 10 * 60_000;
  while (outageGrants.some((grant) => !arrivals.has(grant.id)) && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const arrived = outageGrants.filter((grant) => arrivals.has(grant.id)).map((grant) => arrivals.get(grant.id) - sent);
  await call('DELETE', `/webhook-endpoints/${outageEndpoint.id}`, admin);
  const updates = [...counted.byKind].filter(([kind]) => kind.startsWith('update')).reduce((sum, [, n]) => sum + n, 0);
  console.log(`
an outage: ${OUTAGE} grants to a receiver answering 503, then send-pending once it answers`);
  console.log(`  first attempts recorded (of ${OUTAGE})          ${String(failed).padStart(8)}   (receiver refused ${refused})`);
  console.log(`  failed attempts recorded/s (first grant -> last recorded)  ${fmt(failed / ((recorded - started) / 1000))}`);
  console.log(
    `  store commands per failed attempt, grant included  ${fmt(counted.total / OUTAGE)}   updates ${fmt(updates / OUTAGE)}`,
  );
  console.log(`    per attempt: ${kinds(counted.byKind, OUTAGE)}`);
  console.log(
    `  send-pending (pending ${answer.pending}): all ${arrived.length} delivered after ${(Math.max(...arrived) / 1000).toFixed(1)} s, p50 ${(percentile(arrived, 50) / 1000).toFixed(1)} s`,
  );
}

await app.close();
await new Promise((resolve) => receiver.close(resolve));
await new Promise((resolve) => jwks.close(resolve));
await benchDb.stop();
