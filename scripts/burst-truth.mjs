#!/usr/bin/env node
// node scripts/burst-truth.mjs [flags] — a launch burst through the real stack (as bench-burst), every answer kept and
// checked against the store afterwards. Flags: --replicas N --players N --stock N --stock2 N (a second limited
// reward) --manual (MANUAL approval; a reviewer approves/rejects while the burst runs) --impatient (retry at once,
// ignoring Retry-After) --abort F (fraction of requests hung up after sending) --taps N (taps at once per player)
// --nokey (no Idempotency-Key) --kill (SIGKILL a replica) --freeze MS (SIGSTOP a replica MS, then SIGCONT)
// --gwrestart (restart the gateway mid-burst) --term / --gwterm / --allterm (SIGTERM a replica, the gateway, or the
// whole stack mid-burst, as a rolling deploy or `docker compose down` does, each exit timed, and start it again on
// the same ports) --events N (bursts on N events at once) --samekey (a player's taps
// share one key) --crosskey (one key across events) --ineligible F (fraction of players not eligible) --countdown MS
// (the event starts MS after it is created; players become eligible after it starts; each refused EVENT_NOT_ACTIVE
// or CONDITION_NOT_MET taps again with a new key) --webhook (a receiver failing 1 in 5: each grant delivered, under
// one webhook-id, none for other claims) --revoke N (staff revoke N grants meanwhile) --topup N (stock raised by N
// halfway) --sockets N (the client's connections in all, 0: one per request in flight) --profile DIR (the event servers write CPU profiles there when they stop). Checks, from the store afterwards: each decided answer is its recorded claim; a key, or an unkeyed
// player, answered only 429/503 recorded nothing, and no claim was created inside only shed requests of its key;
// no player holds two blocking claims; no keyed 502/504 and no 500; stock neither oversold nor held by a claim that
// no longer holds it; nothing left PROCESSING. Prints the answers, the claims by status and PROBLEMS.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { MongoClient } from 'mongodb';
import { Pool } from 'undici';
import { createClaimableEvent, fetchApi, makeEligible } from '../test-support/claimable-event.ts';
import { TokenForge } from '../test-support/tokens.ts';
import { freePort, serverProcess } from './bench-gateway.mjs';

const flag = (name, fallback) => {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : fallback;
};
const has = (name) => process.argv.includes(name);
const opt = {
  replicas: Number(flag('--replicas', 1)),
  players: Number(flag('--players', 300)),
  stock: Number(flag('--stock', 50)),
  stock2: flag('--stock2') === undefined ? undefined : Number(flag('--stock2')),
  manual: has('--manual'),
  impatient: has('--impatient'),
  abort: Number(flag('--abort', 0)),
  taps: Number(flag('--taps', 2)),
  nokey: has('--nokey'),
  kill: has('--kill'),
  freeze: Number(flag('--freeze', 0)),
  gwrestart: has('--gwrestart'),
  events: Number(flag('--events', 1)),
  samekey: has('--samekey'),
  crosskey: has('--crosskey'),
  countdown: Number(flag('--countdown', 0)),
  webhook: has('--webhook'),
  ineligible: Number(flag('--ineligible', 0)),
  revoke: Number(flag('--revoke', 0)),
  topup: Number(flag('--topup', 0)),
  term: has('--term'),
  gwterm: has('--gwterm'),
  allterm: has('--allterm'),
  profile: flag('--profile'),
  sockets: Number(flag('--sockets', 0)),
};
const mongoUri = process.env.MONGODB_URI;
const run = `${process.env.BURST_RUN_PREFIX ?? 'hd'}_${Date.now().toString(36)}_${randomBytes(2).toString('hex')}`;
const forge = TokenForge.generate();
const mint = (sub, roles) => forge.sign({ sub, roles }, { expiresInSeconds: 3600 });
const children = [];
const pools = [];
const log = (...a) => console.error(new Date().toISOString().slice(11, 23), ...a);
try {
  const authPort = await freePort();
  const eventPorts = await Promise.all(Array.from({ length: opt.replicas }, freePort));
  const gatewayPort = await freePort();
  const authEnv = {
    MONGODB_URI: mongoUri,
    AUTH_PORT: String(authPort),
    AUTH_DB_NAME: `${run}_auth`,
    JWT_PRIVATE_KEY: forge.privateKeyPem,
    BCRYPT_ROUNDS: '4',
    ADMIN_EMAIL: 'hd-admin@example.com',
    ADMIN_PASSWORD: 'hd-admin-password',
    EVENT_SERVICE_URL: `http://127.0.0.1:${eventPorts[0]}`,
  };
  let auth = serverProcess('auth-server/dist/main.js', authEnv, authPort);
  children.push(auth);
  await auth.ready;
  const eventEnv = (port) => ({
    MONGODB_URI: mongoUri,
    EVENT_PORT: String(port),
    EVENT_DB_NAME: `${run}_event`,
    AUTH_JWKS_URL: `${auth.url}/.well-known/jwks.json`,
    CLAIM_RECONCILE_INTERVAL_MS: '1000',
    CLAIM_STALE_AFTER_MS: '5000',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    // A failed delivery retried each second (the default waits 5 min before the third attempt).
    WEBHOOK_RETRY_SCHEDULE_SECONDS: Array(20).fill('1').join(','),
    ...Object.fromEntries(Object.entries(process.env).filter(([n]) => n.startsWith('CLAIM_') || n.startsWith('WEBHOOK_'))),
  });
  const events = eventPorts.map((port) =>
    serverProcess('event-server/dist/main.js', eventEnv(port), port, { profileDir: opt.profile }),
  );
  children.push(...events);
  await Promise.all(events.map((e) => e.ready));
  const gatewayEnv = {
    GATEWAY_PORT: String(gatewayPort),
    GATEWAY_MAX_CONNECTIONS_PER_ADDRESS: '0',
    AUTH_SERVICE_URL: auth.url,
    EVENT_SERVICE_URL: events.map((e) => e.url).join(','),
    ...Object.fromEntries(Object.entries(process.env).filter(([n]) => /^(UPSTREAM)_/.test(n))),
  };
  let gateway = serverProcess('gateway/dist/main.js', gatewayEnv, gatewayPort);
  children.push(gateway);
  const base = await gateway.ready;
  const admin = mint(randomBytes(12).toString('hex'), ['ADMIN']);
  const api = fetchApi(base);
  const launches = [];
  const ids = Array.from({ length: opt.players }, () => randomBytes(12).toString('hex'));
  for (let e = 0; e < opt.events; e += 1) {
    const rewards = [{ type: 'COUPON', name: 'Launch', quantity: 1, stock: opt.stock, couponCode: 'LAUNCH' }];
    if (opt.stock2 !== undefined) rewards.push({ type: 'ITEM', name: 'Sword', quantity: 1, stock: opt.stock2, itemCode: 'SW' });
    const launch = await createClaimableEvent(api, admin, {
      title: `truth ${e}`,
      activity: `TRUTH_${e}`,
      approval: opt.manual ? 'MANUAL' : 'AUTO',
      rewards,
      ...(opt.countdown && { startAt: new Date(Date.now() + opt.countdown) }),
    });
    launch.startAt = (
      await (await fetch(`${base}/events/${launch.id}`, { headers: { authorization: `Bearer ${admin}` } })).json()
    ).startAt;
    launch.startAt = new Date(launch.startAt);
    if (!opt.countdown)
      await makeEligible(api, admin, launch.activity, ids.slice(0, Math.round(ids.length * (1 - opt.ineligible))));
    launches.push(launch);
  }
  const hooks = [];
  let receiver;
  if (opt.webhook) {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        try {
          const p = JSON.parse(body);
          hooks.push({ id: req.headers['webhook-id'], type: p.type, claimId: p.data?.id, status: p.data?.status });
        } catch {
          hooks.push({ bad: body.slice(0, 80) });
        }
        res.statusCode = Math.random() < 0.2 ? 500 : 204;
        res.end();
      });
    });
    for (let port = 44000 + Math.floor(Math.random() * 900); ; port += 1) {
      const bound = await new Promise((d) => {
        receiver.once('error', () => d(false));
        receiver.listen(port, '127.0.0.1', () => d(true));
      });
      if (bound) break;
    }
    globalThis.receiverToClose = receiver;
    const ep = await fetch(`${base}/webhook-endpoints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        url: `http://127.0.0.1:${receiver.address().port}/hook`,
        events: ['claim.granted', 'claim.revoked'],
      }),
    });
    log('webhook endpoint', ep.status);
  }
  const tokens = new Map(ids.map((id) => [id, mint(id, ['USER'])]));
  // --sockets N: the client's connections in all (spread over its 64 pools; 0: one per request in flight). A crowd of
  // 10,000 players x 2 taps would otherwise open 20,000 sockets from this one process, past its own open-file limit
  // and past the gateway's GATEWAY_MAX_CONNECTIONS: the script's limits, not the platform's.
  const perPool = opt.sockets > 0 ? Math.max(1, Math.ceil(opt.sockets / 64)) : undefined;
  for (let i = 0; i < 64; i += 1) pools.push(new Pool(base, perPool === undefined ? {} : { connections: perPool }));
  const poolOf = new Map(ids.map((id, i) => [id, pools[i % pools.length]]));
  const records = [];
  // Peak RSS (MB) and open fds of each process (and this client) while the burst runs, read from /proc.
  const peaks = {};
  const sample = () => {
    const procs = { client: process.pid, auth: auth.pid, gateway: gateway.pid };
    events.forEach((e, i) => (procs[`event${i}`] = e.pid));
    for (const [name, pid] of Object.entries(procs)) {
      try {
        const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
        const fds = readdirSync(`/proc/${pid}/fd`).length;
        const p = (peaks[name] ??= { rssMb: 0, fds: 0 });
        p.rssMb = Math.max(p.rssMb, Math.round(rss));
        p.fds = Math.max(p.fds, fds);
      } catch {
        // the process is gone (a kill/restart flag)
      }
    }
  };
  const sampler = setInterval(sample, 250);
  const t0 = performance.now();
  const t0Wall = Date.now();
  const send = async (userId, eventId, key) => {
    const rec = { userId, eventId, key, sentAt: performance.now() - t0 };
    records.push(rec);
    const aborting = opt.abort > 0 && Math.random() < opt.abort;
    const ac = new AbortController();
    if (aborting) setTimeout(() => ac.abort(), Math.random() * 50);
    try {
      const response = await poolOf.get(userId).request({
        method: 'POST',
        path: `/events/${eventId}/claims`,
        headers: { authorization: `Bearer ${tokens.get(userId)}`, ...(key && { 'idempotency-key': key }) },
        signal: ac.signal,
      });
      const text = await response.body.text();
      rec.status = response.statusCode;
      try {
        rec.body = JSON.parse(text);
      } catch {
        rec.body = { raw: text.slice(0, 100) };
      }
      rec.retryAfter = response.headers['retry-after'];
    } catch (error) {
      rec.status = 0;
      rec.aborted = aborting;
      rec.body = { code: String(error.code ?? error.name ?? error.message) };
    }
    rec.endAt = performance.now() - t0;
    return rec;
  };
  const final = (r) => [201, 409, 422].includes(r.status) && r.body?.code !== 'IDEMPOTENCY_IN_PROGRESS';
  let grants = 0;
  let killed = false;
  let frozen = false;
  let thawed;
  let restarted = false;
  const trigger = async () => {
    if (grants < Math.ceil(opt.stock / 10)) return;
    if (opt.kill && !killed && events.length > 1) {
      killed = true;
      log('SIGKILL replica', events.at(-1).pid);
      events.at(-1).kill();
    }
    if (opt.freeze && !frozen) {
      frozen = true;
      const pid = events.at(-1).pid;
      log('SIGSTOP replica', pid);
      process.kill(pid, 'SIGSTOP');
      thawed = new Promise((done) =>
        setTimeout(() => {
          log('SIGCONT replica', pid);
          process.kill(pid, 'SIGCONT');
          done();
        }, opt.freeze),
      );
    }
    if (opt.gwrestart && !restarted) {
      restarted = true;
      log('gateway SIGKILL + restart');
      gateway.kill();
      gateway = serverProcess('gateway/dist/main.js', gatewayEnv, gatewayPort);
      children.push(gateway);
      await gateway.ready;
      log('gateway back');
    }
    if (opt.term && !restarted) {
      restarted = true;
      const index = events.length - 1;
      const stopping = events[index];
      const t = performance.now();
      log('SIGTERM replica', stopping.pid);
      await stopping.stop();
      log('replica exited after', Math.round(performance.now() - t), 'ms');
      events[index] = serverProcess('event-server/dist/main.js', eventEnv(eventPorts[index]), eventPorts[index]);
      children.push(events[index]);
      await events[index].ready;
      log('replica back on the same port');
    }
    if (opt.gwterm && !restarted) {
      restarted = true;
      const t = performance.now();
      log('SIGTERM gateway', gateway.pid);
      await gateway.stop();
      log('gateway exited after', Math.round(performance.now() - t), 'ms');
      gateway = serverProcess('gateway/dist/main.js', gatewayEnv, gatewayPort);
      children.push(gateway);
      await gateway.ready;
      log('gateway back');
    }
    if (opt.allterm && !restarted) {
      restarted = true;
      const t = performance.now();
      log('SIGTERM all');
      const took = await Promise.all(
        [gateway, ...events, auth].map((c) => c.stop().then(() => Math.round(performance.now() - t))),
      );
      log('exited after (gateway, replicas..., auth)', took.join(', '), 'ms');
      auth = serverProcess('auth-server/dist/main.js', authEnv, authPort);
      children.push(auth);
      await auth.ready;
      for (let index = 0; index < events.length; index += 1) {
        events[index] = serverProcess('event-server/dist/main.js', eventEnv(eventPorts[index]), eventPorts[index]);
        children.push(events[index]);
      }
      await Promise.all(events.map((e) => e.ready));
      gateway = serverProcess('gateway/dist/main.js', gatewayEnv, gatewayPort);
      children.push(gateway);
      await gateway.ready;
      log('all back');
    }
  };
  const tap = async (userId, eventId, index) => {
    for (let round = 0; opt.countdown && round < 1000; round += 1) {
      const reply = await tapOnce(userId, eventId, `${index}-${round}`);
      if (reply.body?.code !== 'EVENT_NOT_ACTIVE' && reply.body?.code !== 'CONDITION_NOT_MET') return reply;
      await new Promise((d) => setTimeout(d, 50 + Math.random() * 100));
    }
    return tapOnce(userId, eventId, index);
  };
  const tapOnce = async (userId, eventId, index) => {
    const key = opt.nokey
      ? undefined
      : opt.crosskey
        ? `k-${userId}-${index}`
        : `k-${userId}-${eventId}-${opt.samekey ? 0 : index}`;
    let reply = await send(userId, eventId, key);
    for (let attempt = 0; !final(reply) && attempt < (opt.impatient ? 400 : 200); attempt += 1) {
      const wait = opt.impatient ? 0 : reply.retryAfter ? Number(reply.retryAfter) * 1000 : 250;
      if (wait) await new Promise((d) => setTimeout(d, wait * (1 + Math.random() / 2)));
      else await new Promise((d) => setImmediate(d));
      reply = await send(userId, eventId, key);
    }
    if (reply.status === 201) grants += 1;
    void trigger();
    return reply;
  };
  let bursting = true;
  const reviews = [];
  const reviewer = async () => {
    const store = await new MongoClient(mongoUri).connect();
    const claims = store.db(`${run}_event`).collection('claims');
    while (bursting) {
      const pending = await claims.find({ status: 'PENDING' }).limit(20).toArray();
      await Promise.all(
        pending.map(async (c, i) => {
          const verb = (c._id.toString().charCodeAt(23) + i) % 2 ? 'approve' : 'reject';
          const sentAt = new Date().toISOString();
          const res = await fetch(`${base}/claims/${c._id}/${verb}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
            body: verb === 'reject' ? JSON.stringify({ note: 'no' }) : undefined,
          }).catch((e) => ({ status: 0, json: async () => ({ code: e.message }) }));
          const body = await res.json().catch(() => ({}));
          reviews.push({
            id: String(c._id),
            verb,
            status: res.status,
            code: body.code,
            claimStatus: body.status,
            sentAt,
            endAt: new Date().toISOString(),
          });
        }),
      );
      await new Promise((d) => setTimeout(d, 100));
    }
    await store.close();
  };
  let revoked = 0;
  let toppedUp = false;
  const revoker = async () => {
    const store = await new MongoClient(mongoUri).connect();
    const claims = store.db(`${run}_event`).collection('claims');
    while (bursting) {
      if (opt.topup && !toppedUp && grants >= opt.stock / 2) {
        toppedUp = true;
        for (const l of launches) {
          const res = await fetch(`${base}/events/${l.id}/rewards/${l.rewardIds[0]}`, {
            method: 'PATCH',
            headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
            body: JSON.stringify({ stock: opt.stock + opt.topup }),
          });
          const body = await res.json().catch(() => ({}));
          reviews.push({ verb: 'topup', status: res.status, code: body.code ?? body.remaining });
        }
      }
      if (revoked < opt.revoke) {
        const granted = await claims.find({ status: 'GRANTED' }).limit(5).toArray();
        await Promise.all(
          granted.map(async (c) => {
            revoked += 1;
            const res = await fetch(`${base}/claims/${c._id}/revoke`, {
              method: 'POST',
              headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
              body: JSON.stringify({ note: 'revoked' }),
            }).catch((e) => ({ status: 0, json: async () => ({ code: e.message }) }));
            const body = await res.json().catch(() => ({}));
            reviews.push({ id: String(c._id), verb: 'revoke', status: res.status, code: body.code, claimStatus: body.status });
          }),
        );
      }
      await new Promise((d) => setTimeout(d, 100));
    }
    await store.close();
  };
  const eligibleAt = new Map();
  const importing = (async () => {
    if (!opt.countdown) return;
    for (const l of launches) {
      while (Date.now() < l.startAt.getTime() + 300) await new Promise((d) => setTimeout(d, 50));
      for (let i = 0; i < ids.length; i += 50) {
        const batch = ids.slice(i, i + 50);
        await makeEligible(api, admin, l.activity, batch);
        for (const u of batch) eligibleAt.set(`${u}|${l.id}`, Date.now());
      }
    }
    log('imported');
  })();
  const reviewing = Promise.all([
    importing,
    opt.manual ? reviewer() : undefined,
    opt.revoke || opt.topup ? revoker() : undefined,
  ]);
  const finals = await Promise.all(
    launches.flatMap((l) => ids.flatMap((u) => Array.from({ length: opt.taps }, (_, i) => tap(u, l.id, i)))),
  );
  bursting = false;
  clearInterval(sampler);
  await reviewing;
  const wall = performance.now() - t0;
  log('burst done', (wall / 1000).toFixed(1), 's');
  if (thawed) {
    await thawed;
    for (;;) {
      const ok = await fetch(`${events.at(-1).url}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await new Promise((d) => setTimeout(d, 200));
    }
    log('thawed replica healthy');
  }
  // Settle: no PROCESSING left (the reconciler and the survivors), up to 60 s.
  const store = await new MongoClient(mongoUri).connect();
  const db = store.db(`${run}_event`);
  for (let i = 0; i < 120; i += 1) {
    if ((await db.collection('claims').countDocuments({ status: 'PROCESSING' })) === 0) break;
    await new Promise((d) => setTimeout(d, 500));
  }
  if (opt.webhook) {
    for (let i = 0; i < 240; i += 1) {
      const n = await db
        .collection('claims')
        .countDocuments({ status: { $in: ['GRANTED', 'REVOKED'] }, 'payout.status': { $ne: 'DELIVERED' } });
      // and a claim.granted received for each (a replica that learnt of the endpoint late back-fills its deliveries)
      const held = await db
        .collection('claims')
        .find({ status: { $in: ['GRANTED', 'REVOKED'] } }, { projection: { _id: 1 } })
        .toArray();
      const granted = new Set(hooks.filter((h) => h.type === 'claim.granted').map((h) => h.claimId));
      const lacking = held.filter((c) => !granted.has(String(c._id))).length;
      if (n === 0 && lacking === 0) break;
      if (n === 0 && lacking > 0 && i % 10 === 0) log('payout DELIVERED but no claim.granted yet:', lacking);
      if (i % 20 === 0) log('undelivered', n);
      await new Promise((d) => setTimeout(d, 500));
    }
  }
  const claims = await db.collection('claims').find({}).toArray();
  const units = await db.collection('reward_units').find({}).toArray();
  const rewardsDocs = await db.collection('rewards').find({}).toArray();
  const byId = new Map(claims.map((c) => [String(c._id), c]));
  const problems = [];
  const tally = {};
  for (const r of records) {
    const a = `${r.status} ${r.body?.code ?? r.body?.status ?? ''}`.trim();
    tally[a] = (tally[a] ?? 0) + 1;
  }
  // 1. every decided answer is the recorded claim
  for (const r of records) {
    if (!final(r)) continue;
    const id = r.body?.id ?? r.body?.claim?.id;
    if (!id && r.body?.code === 'IDEMPOTENCY_KEY_REUSED') continue;
    if (!id) {
      problems.push(`final ${r.status} ${r.body?.code} without id`);
      continue;
    }
    const c = byId.get(id);
    if (!c) {
      problems.push(`answer ${r.status} ${r.body?.code ?? r.body?.status} names claim ${id} not in store (user ${r.userId})`);
      continue;
    }
    if (c.userId !== r.userId || c.eventId !== r.eventId) problems.push(`claim ${id} of other user/event`);
    const told = r.body.status;
    const ok =
      told === c.status ||
      (told === 'PENDING' && ['GRANTED', 'REJECTED', 'REVOKED'].includes(c.status)) ||
      (told === 'GRANTED' && c.status === 'REVOKED');
    if (!ok) problems.push(`answer ${r.status} ${r.body?.code ?? ''} told ${told}, store ${c.status} ${c.reason ?? ''} (${id})`);
  }
  // 2. per key / per player: shed answers only => nothing recorded
  const shed = (r) =>
    (r.status === 429 || r.status === 503) &&
    ['CLAIMS_BUSY', 'TOO_MANY_REQUESTS', 'UPSTREAM_UNAVAILABLE', 'SERVICE_UNAVAILABLE'].includes(r.body?.code);
  const groups = new Map();
  for (const r of records) {
    const g = opt.nokey ? `${r.userId}|${r.eventId}` : `${r.userId}|${r.eventId}|${r.key}`;
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(r);
  }
  const claimsOf = new Map();
  for (const c of claims) {
    const g = opt.nokey ? `${c.userId}|${c.eventId}` : `${c.userId}|${c.eventId}|${c.idempotencyKey}`;
    if (!claimsOf.has(g)) claimsOf.set(g, []);
    claimsOf.get(g).push(c);
  }
  let unanswered = 0;
  for (const [g, rs] of groups) {
    const cs = claimsOf.get(g) ?? [];
    if (rs.every(shed) && cs.length > 0)
      problems.push(
        `only shed answers (${rs.map((r) => `${r.status} ${r.body?.code}`).join(',')}) but claim(s) ${cs.map((c) => `${c._id}:${c.status}`).join(',')} for ${g}`,
      );
    const last = rs.at(-1);
    if (!final(last)) unanswered += 1;
    if (
      !opt.nokey &&
      final(last) &&
      cs.length > 0 &&
      last.body?.id &&
      !cs.some((c) => String(c._id) === last.body.id) &&
      last.status !== 409
    )
      problems.push(`final answer for key ${g} names ${last.body.id}, key's claims ${cs.map((c) => c._id)}`);
    if (!opt.nokey && cs.filter((c) => c.reason !== 'INTERRUPTED').length > 1) problems.push(`key ${g} has ${cs.length} claims`);
  }
  // each request records at most one claim: a player's claims on an event <= its requests not shed
  const perPlayer = new Map();
  for (const r of records) {
    const g = `${r.userId}|${r.eventId}`;
    const e = perPlayer.get(g) ?? { notShed: 0, claims: 0 };
    if (!shed(r)) e.notShed += 1;
    perPlayer.set(g, e);
  }
  for (const c of claims) {
    const e = perPlayer.get(`${c.userId}|${c.eventId}`);
    if (e) e.claims += 1;
  }
  for (const [g, e] of perPlayer)
    if (e.claims > e.notShed) problems.push(`${g}: ${e.claims} claims from ${e.notShed} requests not shed`);
  // 5xx after which a claim exists
  // 5xx: keyed ones must not exist; for the others, how many players have more claims than decided answers
  const fivexx = records.filter((r) => [500, 502, 504].includes(r.status));
  for (const r of fivexx.filter((r) => r.key || r.status === 500)) problems.push(`${r.status} ${r.body?.code} keyed ${r.key}`);
  const perP = new Map();
  for (const r of records) {
    const g = `${r.userId}|${r.eventId}`;
    const e = perP.get(g) ?? { decided: 0, fivexx: 0, lost: 0, claims: 0 };
    if (final(r)) e.decided += 1;
    if ([500, 502, 504].includes(r.status)) e.fivexx += 1;
    if (r.status === 0) e.lost += 1;
    perP.set(g, e);
  }
  for (const c of claims) {
    const e = perP.get(`${c.userId}|${c.eventId}`);
    if (e && c.reason !== 'INTERRUPTED') e.claims += 1;
  }
  let after5xx = 0;
  for (const e of perP.values()) if (e.fivexx > 0 && e.lost === 0 && e.claims > e.decided) after5xx += e.claims - e.decided;
  if (fivexx.length)
    problems.push(
      `${fivexx.length} answers 5xx; claims recorded beyond decided answers where the player had a 5xx and no lost connection: ${after5xx}`,
    );
  // 3. stock
  const rewardsOut = [];
  for (const rw of rewardsDocs) {
    if (rw.stock == null) continue;
    const finalStock = rw.stock;
    const rid = String(rw._id);
    const holders = [
      ...claims.filter((c) => c.unitRewardId === rid).map((c) => ({ claimId: String(c._id), unit: c.unitKey })),
      ...units.filter((u) => u.rewardId === rid).map((u) => ({ claimId: u.claimId, unit: u.unit })),
    ];
    const holding = claims.filter((c) => c.eventId === rw.eventId && ['GRANTED', 'PENDING'].includes(c.status));
    const heldBy = new Set(holders.map((h) => h.claimId));
    const leaked = holders.filter((h) => !['GRANTED', 'PENDING', 'PROCESSING'].includes(byId.get(h.claimId)?.status));
    const unbacked = holding.filter((c) => !heldBy.has(String(c._id)));
    rewardsOut.push({
      reward: rw.name,
      stock: rw.stock,
      units: holders.length,
      holding: holding.length,
      leaked: leaked.length,
      unbacked: unbacked.length,
    });
    if (holders.length > rw.stock) problems.push(`reward ${rw.name} oversold: ${holders.length} > ${rw.stock}`);
    if (leaked.length)
      problems.push(
        `reward ${rw.name}: ${leaked.length} units held by non-holding claims ${leaked.slice(0, 3).map((l) => `${l.claimId}:${byId.get(l.claimId)?.status}`)}`,
      );
    if (unbacked.length) problems.push(`reward ${rw.name}: ${unbacked.length} holding claims without a unit`);
  }
  const blocking = new Map();
  for (const c of claims) {
    if (!['GRANTED', 'PENDING', 'REVOKED'].includes(c.status) && c.reason !== 'REVIEW_REJECTED') continue;
    const g = `${c.userId}|${c.eventId}`;
    blocking.set(g, [...(blocking.get(g) ?? []), `${c._id}:${c.status}:${c.slotKey}`]);
  }
  for (const [g, l] of blocking) if (l.length > 1) problems.push(`${g} holds ${l.length} blocking claims: ${l.join(' ')}`);
  // when was each keyed claim created: inside which of its key's requests?
  if (!opt.nokey) {
    const byKey = new Map();
    for (const r of records) byKey.set(`${r.userId}|${r.key}`, [...(byKey.get(`${r.userId}|${r.key}`) ?? []), r]);
    let outside = 0;
    for (const c of claims) {
      const at = new Date(c.createdAt).getTime() - t0Wall;
      const rs = byKey.get(`${c.userId}|${c.idempotencyKey}`) ?? [];
      const open = (r) => r.status === 0 || [502, 504].includes(r.status) || r.body?.code === 'IDEMPOTENCY_IN_PROGRESS';
      const inside = rs.filter((r) => r.sentAt - 20 <= at && (open(r) || at <= r.endAt + 20));
      if (inside.length === 0) {
        outside += 1;
        if (outside <= 5)
          problems.push(
            `claim ${c._id} ${c.status} ${c.reason ?? ''} created at ${at.toFixed(0)} ms, outside every request of its key (${rs.map((r) => `${r.sentAt.toFixed(0)}-${r.endAt.toFixed(0)}:${r.status}`).join(' ')})`,
          );
      } else if (inside.every(shed))
        problems.push(
          `claim ${c._id} created at ${at.toFixed(0)} only inside shed requests ${inside.map((r) => `${r.status} ${r.body?.code}`)}`,
        );
    }
    if (outside) problems.push(`${outside} claims created outside every request of their key`);
  }
  for (const c of claims.filter((c) => c.reason === 'CONDITION_NOT_MET')) {
    const at = eligibleAt.get(`${c.userId}|${c.eventId}`);
    if (at !== undefined && new Date(c.createdAt).getTime() > at + 5)
      problems.push(
        `claim ${c._id} CONDITION_NOT_MET created ${new Date(c.createdAt).getTime() - at} ms after the player's activity was recorded`,
      );
  }
  for (const c of claims.filter((c) => c.reason === 'EVENT_NOT_ACTIVE')) {
    const ev = launches.find((l) => l.id === c.eventId);
    if (new Date(c.createdAt) >= ev.startAt)
      problems.push(
        `claim ${c._id} EVENT_NOT_ACTIVE created ${c.createdAt.toISOString()} >= startAt ${ev.startAt.toISOString()}`,
      );
  }
  if (opt.webhook) {
    const got = new Map();
    for (const h of hooks) got.set(`${h.type}|${h.claimId}`, [...(got.get(`${h.type}|${h.claimId}`) ?? []), h.id]);
    let missing = 0;
    let wrong = 0;
    for (const c of claims.filter((c) => ['GRANTED', 'REVOKED'].includes(c.status))) {
      if (!got.has(`claim.granted|${c._id}`)) {
        missing += 1;
        problems.push(
          `no claim.granted for ${c._id} ${c.status} payout ${JSON.stringify(c.payout)}; its webhooks: ${JSON.stringify(hooks.filter((h) => h.claimId === String(c._id)))}`,
        );
      }
      if (c.payout?.status !== 'DELIVERED') problems.push(`claim ${c._id} ${c.status} payout ${JSON.stringify(c.payout)}`);
    }
    for (const [k, hs] of got) {
      const [type, id] = k.split('|');
      const c = byId.get(id);
      if (type === 'claim.granted' && !['GRANTED', 'REVOKED'].includes(c?.status))
        ((wrong += 1), problems.push(`webhook ${k} for claim ${c?.status} ${c?.reason}`));
      if (new Set(hs).size > 1) problems.push(`webhook ${k} with ${new Set(hs).size} webhook-ids`);
    }
    if (missing) problems.push(`${missing} granted claims without a claim.granted webhook`);
    console.log('webhooks received', hooks.length, 'distinct', new Set(hooks.map((h) => h.id)).size);
  }
  const processing = claims.filter((c) => c.status === 'PROCESSING').length;
  if (processing) problems.push(`${processing} claims still PROCESSING`);
  const byStatus = {};
  for (const c of claims)
    byStatus[`${c.status} ${c.reason ?? ''}`.trim()] = (byStatus[`${c.status} ${c.reason ?? ''}`.trim()] ?? 0) + 1;
  const reviewTally = {};
  for (const rv of reviews)
    reviewTally[`${rv.verb} ${rv.status} ${rv.code ?? rv.claimStatus}`] =
      (reviewTally[`${rv.verb} ${rv.status} ${rv.code ?? rv.claimStatus}`] ?? 0) + 1;
  console.log(
    JSON.stringify(
      {
        opt,
        wallS: +(wall / 1000).toFixed(1),
        requests: records.length,
        answers: tally,
        claims: byStatus,
        rewards: rewardsOut,
        reviews: reviewTally,
        withoutFinal: finals.filter((f) => !final(f)).length,
        lastFinalS: +(Math.max(...finals.map((f) => f.endAt)) / 1000).toFixed(1),
        ...(() => {
          const ms = records.map((r) => r.endAt - r.sentAt).sort((a, b) => a - b);
          const at = (q) => Math.round(ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]);
          const retryAfter = {};
          for (const r of records) if (r.retryAfter) retryAfter[r.retryAfter] = (retryAfter[r.retryAfter] ?? 0) + 1;
          return { requestMs: { p50: at(0.5), p99: at(0.99), max: Math.round(ms.at(-1)) }, retryAfter };
        })(),
        peaks,
        unansweredGroups: unanswered,
      },
      null,
      1,
    ),
  );
  console.log(`PROBLEMS ${problems.length}`);
  for (const p of problems.slice(0, 40)) console.log('  ' + p);
  await store.close();
  if (process.env.HD_DUMP) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(process.env.HD_DUMP, JSON.stringify({ t0Wall, records, claims, reviews }));
  }
} finally {
  await Promise.all(pools.map((p) => p.destroy()));
  globalThis.receiverToClose?.close();
  for (const child of children.reverse()) await child.stop().catch(() => {});
}
