#!/usr/bin/env node
// npm run bench:gateway: what the gateway costs in front of an upstream that answers at once.
// One stub upstream (it also publishes the JWKS), a bare @fastify/http-proxy in front of it and our gateway
// (gateway/dist/main.js, the real JWT check and route policy, logging at its default level) in front of it,
// each a process of its own. The same authenticated GET is sent to both in interleaved rounds by one
// load generator (undici, a fixed number of requests in flight); what counts are the ratios, since the
// machine is shared and the absolute figures move from run to run.
//
// import { benchGateway } from './bench-gateway.mjs' returns the figures as an object; run directly, it
// prints them. Options (and flags): rounds (--rounds), seconds per round (--seconds), requests in flight
// (--connections), profileDir (--cpu-prof DIR: the gateway runs with node --cpu-prof, a profile is
// written there when it stops).
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import jwt from 'jsonwebtoken';
import { Pool } from 'undici';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const ISSUER = 'bench-issuer';
const AUDIENCE = 'bench-audience';
const KID = 'bench-key';
const PATH = '/events/64b7f0c2a1b2c3d4e5f60718';

/** The upstream: answers every request at once with a small JSON body, and the JWKS the tokens verify with. */
function serveStub(jwks) {
  const body = JSON.stringify({ id: '64b7f0c2a1b2c3d4e5f60718', title: 'bench', status: 'ACTIVE' });
  const jwksBody = JSON.stringify(jwks);
  const server = createServer((request, response) => {
    const payload = request.url === '/.well-known/jwks.json' ? jwksBody : body;
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload) });
    response.end(payload);
  });
  server.keepAliveTimeout = 60_000;
  return server;
}

/** The baseline: a bare @fastify/http-proxy (no logging, no checks) in front of the same upstream. */
async function serveBareProxy(upstream) {
  const { default: Fastify } = await import('fastify');
  const { default: httpProxy } = await import('@fastify/http-proxy');
  const app = Fastify({ logger: false });
  await app.register(httpProxy, { upstream });
  return app;
}

/** Runs in a child process: `--serve stub|bare`, prints the port it listens on as its first line. */
async function serveChild(role) {
  const input = JSON.parse(process.env.BENCH_CHILD ?? '{}');
  if (role === 'stub') {
    const server = serveStub(input.jwks);
    await new Promise((done) => server.listen(0, '127.0.0.1', done));
    process.stdout.write(`${server.address().port}\n`);
  } else {
    const app = await serveBareProxy(input.upstream);
    await app.listen({ host: '127.0.0.1', port: 0 });
    process.stdout.write(`${app.server.address().port}\n`);
  }
  process.on('SIGTERM', () => process.exit(0));
}

/** A node process of the bench; ready when it prints its port (`readPort`) or when `healthUrl` answers 200. */
export function startChild(args, env, { readPort, healthUrl, readyWithinMs = 30_000 }) {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', readPort ? 'pipe' : 'ignore', 'pipe'],
  });
  let errors = '';
  child.stderr.on('data', (chunk) => {
    errors = (errors + chunk.toString()).slice(-5_000);
  });
  const exited = once(child, 'exit');
  const ready = (async () => {
    if (readPort) {
      let text = '';
      for await (const chunk of child.stdout) {
        text += chunk.toString();
        if (text.includes('\n')) break;
      }
      child.stdout.resume();
      const port = Number.parseInt(text, 10);
      if (!Number.isInteger(port)) throw new Error(`${args.join(' ')} did not start:\n${errors}`);
      return `http://127.0.0.1:${port}`;
    }
    const deadline = Date.now() + readyWithinMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited:\n${errors}`);
      const ok = await fetch(healthUrl)
        .then((response) => response.ok)
        .catch(() => false);
      if (ok) return healthUrl.replace(/\/health$/, '');
      await new Promise((done) => setTimeout(done, 100));
    }
    throw new Error(`${args.join(' ')} not healthy:\n${errors}`);
  })();
  return {
    ready,
    kill: () => child.kill('SIGKILL'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function freePort() {
  const server = createServer();
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  await new Promise((done) => server.close(done));
  return port;
}

/** `connections` requests in flight for `seconds`, each answered before the next is sent on its connection. */
async function load(baseUrl, headers, { seconds, connections }) {
  const pool = new Pool(baseUrl, { connections, pipelining: 1 });
  const latencies = [];
  let errors = 0;
  const startedAt = performance.now();
  const endAt = startedAt + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < endAt) {
        const sent = performance.now();
        try {
          const response = await pool.request({ method: 'GET', path: PATH, headers });
          await response.body.dump();
          if (response.statusCode === 200) latencies.push(performance.now() - sent);
          else errors++;
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - startedAt) / 1000;
  await pool.close();
  return { latencies, errors, elapsed };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summarize(rounds) {
  const latencies = rounds.flatMap((round) => round.latencies).sort((a, b) => a - b);
  const elapsed = rounds.reduce((sum, round) => sum + round.elapsed, 0);
  return {
    requests: latencies.length,
    errors: rounds.reduce((sum, round) => sum + round.errors, 0),
    reqPerSec: latencies.length / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

/**
 * Starts the stub, the bare proxy and the gateway, loads them in interleaved rounds and returns
 * `{ bare, gateway, ratio }` (req/s, p50/p99 in ms; ratio.throughput = gateway / bare, ratio.p50DeltaMs).
 */
export async function benchGateway(options = {}) {
  const { rounds = 5, seconds = 3, connections = 16, warmupSeconds = 2, profileDir, log = () => {} } = options;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' }] };
  const token = jwt.sign({ roles: ['USER'] }, privateKey, {
    algorithm: 'RS256',
    keyid: KID,
    subject: '64b7f0c2a1b2c3d4e5f60718',
    issuer: ISSUER,
    audience: AUDIENCE,
    expiresIn: 3600,
  });
  const headers = { authorization: `Bearer ${token}` };

  const children = [];
  try {
    const stub = startChild([SELF, '--serve', 'stub'], { BENCH_CHILD: JSON.stringify({ jwks }) }, { readPort: true });
    children.push(stub);
    const upstream = await stub.ready;
    const bare = startChild([SELF, '--serve', 'bare'], { BENCH_CHILD: JSON.stringify({ upstream }) }, { readPort: true });
    children.push(bare);
    const port = await freePort();
    const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', resolvePath(profileDir)] : [];
    const gateway = startChild(
      [...profile, 'gateway/dist/main.js'],
      {
        NODE_ENV: 'production',
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_PORT: String(port),
        AUTH_SERVICE_URL: upstream,
        EVENT_SERVICE_URL: upstream,
        AUTH_JWKS_URL: `${upstream}/.well-known/jwks.json`,
        JWT_ISSUER: ISSUER,
        JWT_AUDIENCE: AUDIENCE,
        // The deployed default: the gateway's own log lines are part of what it costs.
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      },
      { readPort: false, healthUrl: `http://127.0.0.1:${port}/health` },
    );
    children.push(gateway);
    const targets = { bare: await bare.ready, gateway: await gateway.ready };

    for (const [name, url] of Object.entries(targets)) {
      const check = await fetch(`${url}${PATH}`, { headers });
      if (check.status !== 200) throw new Error(`${name} answered ${check.status}: ${await check.text()}`);
      await load(url, headers, { seconds: warmupSeconds, connections });
    }
    const results = { bare: [], gateway: [] };
    for (let round = 0; round < rounds; round++) {
      // Interleaved, and in alternating order, so that drift in the machine's load hits both alike.
      const order = round % 2 === 0 ? ['bare', 'gateway'] : ['gateway', 'bare'];
      for (const name of order) {
        const result = await load(targets[name], headers, { seconds, connections });
        results[name].push(result);
        log(`round ${round + 1}/${rounds} ${name}: ${(result.latencies.length / result.elapsed).toFixed(0)} req/s`);
      }
    }
    const figures = { bare: summarize(results.bare), gateway: summarize(results.gateway) };
    return {
      connections,
      rounds,
      secondsPerRound: seconds,
      ...figures,
      ratio: {
        throughput: figures.gateway.reqPerSec / figures.bare.reqPerSec,
        p50DeltaMs: figures.gateway.p50Ms - figures.bare.p50Ms,
        p99DeltaMs: figures.gateway.p99Ms - figures.bare.p99Ms,
      },
    };
  } finally {
    // The gateway stops on SIGTERM gracefully, which is also when --cpu-prof writes its profile.
    for (const child of children.reverse()) await child.stop();
  }
}

function flag(name) {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

if (process.argv[1] && resolvePath(process.argv[1]) === SELF) {
  const role = flag('--serve');
  if (role) {
    await serveChild(role);
  } else {
    const number = (name) => (flag(name) === undefined ? undefined : Number(flag(name)));
    const figures = await benchGateway({
      rounds: number('--rounds'),
      seconds: number('--seconds'),
      connections: number('--connections'),
      profileDir: flag('--cpu-prof'),
      log: (line) => console.log(line),
    });
    const row = (name, f) =>
      `${name.padEnd(22)} ${f.reqPerSec.toFixed(0).padStart(8)} req/s   p50 ${f.p50Ms.toFixed(2)} ms   p99 ${f.p99Ms.toFixed(2)} ms   (${f.requests} requests, ${f.errors} errors)`;
    console.log(
      `\nauthenticated GET ${PATH}, ${figures.connections} in flight, ${figures.rounds} interleaved rounds of ${figures.secondsPerRound} s`,
    );
    console.log(row('bare @fastify/http-proxy', figures.bare));
    console.log(row('gateway', figures.gateway));
    console.log(
      `gateway / bare: throughput ${(figures.ratio.throughput * 100).toFixed(1)} %, p50 ${figures.ratio.p50DeltaMs >= 0 ? '+' : ''}${figures.ratio.p50DeltaMs.toFixed(2)} ms, p99 ${figures.ratio.p99DeltaMs >= 0 ? '+' : ''}${figures.ratio.p99DeltaMs.toFixed(2)} ms`,
    );
  }
}
