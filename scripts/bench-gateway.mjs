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
// (--connections), processes of each kind (--processes, default 2: each kind's figures pool them, and the
// CPU per request of each is printed too), profileDir (--cpu-prof DIR: the gateways and the bare proxies run
// with node --cpu-prof; gateway.cpuprofile, gateway-warn.cpuprofile and bare.cpuprofile, then -2, -3... for
// the other processes of a kind, are written there when they stop), withoutLogging (default true;
// --no-quiet turns it off: a second kind of gateway at LOG_LEVEL=warn, which writes no line per request,
// runs in the same rounds, so the cost of logging shows), upstreamDelayMs (--upstream-delay MS, default 0:
// the stub answers each request that many ms after it arrived, as a server doing work would; the goal is
// stated for 0, the instant upstream).
// Besides req/s and latency, each proxy's own CPU time per request is read from /proc (Linux): on a shared
// machine it moves far less than req/s, and says which process the time goes to.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TokenForge } from '../test-support/tokens.ts';
import { Pool } from 'undici';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const ISSUER = 'bench-issuer';
const AUDIENCE = 'bench-audience';
const PATH = '/events/64b7f0c2a1b2c3d4e5f60718';

/**
 * The upstream: answers every request with a small JSON body (at once, or `delayMs` after it arrived), and
 * the JWKS the tokens verify with.
 */
function serveStub(jwks, delayMs = 0) {
  const body = JSON.stringify({ id: '64b7f0c2a1b2c3d4e5f60718', title: 'bench', status: 'ACTIVE' });
  const jwksBody = JSON.stringify(jwks);
  const server = createServer((request, response) => {
    const keys = request.url === '/.well-known/jwks.json';
    const payload = keys ? jwksBody : body;
    const answer = () => {
      response.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(payload),
      });
      response.end(payload);
    };
    if (delayMs > 0 && !keys) setTimeout(answer, delayMs);
    else answer();
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
    const server = serveStub(input.jwks, input.delayMs);
    await new Promise((done) => server.listen(0, '127.0.0.1', done));
    process.stdout.write(`${server.address().port}\n`);
  } else {
    const app = await serveBareProxy(input.upstream);
    await app.listen({ host: '127.0.0.1', port: 0 });
    process.stdout.write(`${app.server.address().port}\n`);
  }
  process.on('SIGTERM', () => process.exit(0));
}

/**
 * A bare @fastify/http-proxy (see serveBareProxy) as a process of its own in front of `upstream`: the bench's
 * claim rounds put it where the gateway process stands, to show what the gateway's own work costs a claim.
 */
export function bareProxyProcess(upstream) {
  return startChild([SELF, '--serve', 'bare'], { BENCH_CHILD: JSON.stringify({ upstream }) }, { readPort: true });
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
    pid: child.pid,
    kill: () => child.kill('SIGKILL'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * A built server (its dist/ entry) as a child process on `port`, at NODE_ENV=test and LOG_LEVEL=warn unless
 * `env` says otherwise, ready (`ready` gives its base URL) once its /health answers 200. With `profileDir`
 * it runs under node --cpu-prof and writes its profile there when it stops.
 */
export function serverProcess(entry, env, port, { profileDir } = {}) {
  const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const url = `http://127.0.0.1:${port}`;
  const child = startChild(
    [...profile, entry],
    { NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env },
    { readPort: false, healthUrl: `${url}/health`, readyWithinMs: 60_000 },
  );
  return { ...child, url };
}

/** `{ seconds: times }` of the Retry-After values a burst was told, as one line: "1: 40, 2: 9" ('-' for none). */
export function retryAfterTally(told) {
  return (
    Object.entries(told)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([seconds, count]) => `${seconds}: ${count}`)
      .join(', ') || '-'
  );
}

/** How many of `times` (ms from a run's start) fall in each slot of `slotMs`, from the first slot on (0 for none). */
export function countsPerSlot(times, slotMs) {
  const counts = [];
  for (const ms of times) {
    const slot = Math.max(0, Math.floor(ms / slotMs));
    counts[slot] = (counts[slot] ?? 0) + 1;
  }
  return Array.from(counts, (count) => count ?? 0);
}

export async function freePort() {
  const server = createServer();
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  await new Promise((done) => server.close(done));
  return port;
}

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system, ms) a process has used so far, from /proc (Linux); undefined elsewhere. Unlike
 * req/s on a shared machine, CPU time per request hardly moves with what the neighbours are doing.
 */
export function cpuMsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, so cut at its closing parenthesis): utime is 14th, stime 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** `connections` requests in flight for `seconds`, each answered before the next is sent on its connection. */
async function load(baseUrl, headers, { seconds, connections, pid }) {
  const cpuBefore = pid === undefined ? undefined : cpuMsOf(pid);
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
  const cpuAfter = pid === undefined ? undefined : cpuMsOf(pid);
  await pool.close();
  const cpuMs = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
  return { latencies, errors, elapsed, cpuMs };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summarize(rounds) {
  const latencies = rounds.flatMap((round) => round.latencies).sort((a, b) => a - b);
  const elapsed = rounds.reduce((sum, round) => sum + round.elapsed, 0);
  const cpuMs = rounds.every((round) => round.cpuMs !== undefined)
    ? rounds.reduce((sum, round) => sum + round.cpuMs, 0)
    : undefined;
  return {
    // The proxy process's own CPU time per answered request (µs): what it costs, whatever the machine's load.
    cpuUsPerRequest: cpuMs === undefined ? undefined : (cpuMs * 1000) / latencies.length,
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
  const {
    rounds = 5,
    seconds = 3,
    connections = 16,
    warmupSeconds = 2,
    profileDir,
    withoutLogging = true,
    processes = 2,
    upstreamDelayMs = 0,
    log = () => {},
  } = options;
  if (!Number.isInteger(processes) || processes < 1) throw new Error(`processes must be a whole number from 1, got ${processes}`);
  if (!(upstreamDelayMs >= 0)) throw new Error(`the upstream's delay must be 0 ms or more, got ${upstreamDelayMs}`);
  // The tests' token forge: the stub upstream publishes its JWKS, the gateway verifies with it.
  const forge = TokenForge.generate({ issuer: ISSUER, audience: AUDIENCE });
  const jwks = forge.jwks;
  const token = forge.sign({ roles: ['USER'] }, { expiresInSeconds: 3600 });
  const headers = { authorization: `Bearer ${token}` };

  const children = [];
  try {
    const stub = startChild(
      [SELF, '--serve', 'stub'],
      { BENCH_CHILD: JSON.stringify({ jwks, delayMs: upstreamDelayMs }) },
      { readPort: true },
    );
    children.push(stub);
    const upstream = await stub.ready;
    // The first process of a kind writes `<kind>.cpuprofile`, the others `<kind>-2.cpuprofile` and so on.
    const profile = (name, index) =>
      profileDir
        ? [
            '--cpu-prof',
            '--cpu-prof-dir',
            resolvePath(profileDir),
            '--cpu-prof-name',
            `${name}${index === 0 ? '' : `-${index + 1}`}.cpuprofile`,
          ]
        : [];
    const startBare = (index) =>
      startChild(
        [...profile('bare', index), SELF, '--serve', 'bare'],
        { BENCH_CHILD: JSON.stringify({ upstream }) },
        { readPort: true },
      );
    const startGateway = async (logLevel, profileName, index) => {
      const port = await freePort();
      return startChild(
        [...profile(profileName, index), 'gateway/dist/main.js'],
        {
          NODE_ENV: 'production',
          GATEWAY_HOST: '127.0.0.1',
          GATEWAY_PORT: String(port),
          AUTH_SERVICE_URL: upstream,
          EVENT_SERVICE_URL: upstream,
          AUTH_JWKS_URL: `${upstream}/.well-known/jwks.json`,
          JWT_ISSUER: ISSUER,
          JWT_AUDIENCE: AUDIENCE,
          LOG_LEVEL: logLevel,
        },
        { readPort: false, healthUrl: `http://127.0.0.1:${port}/health` },
      );
    };
    // Several processes of each kind: two processes of one build differ by up to ~20 % in CPU per request on
    // a shared machine (where their code and heap landed), so one process per kind measures the process as
    // much as the code. Each kind's figures pool all its processes.
    const kinds = {
      bare: (index) => startBare(index),
      // The deployed default: the gateway's own log lines are part of what it costs.
      gateway: (index) => startGateway(process.env.LOG_LEVEL ?? 'info', 'gateway', index),
      // The same gateway writing no line per request: how much of its cost is the logging.
      ...(withoutLogging && { gatewayWithoutLogging: (index) => startGateway('warn', 'gateway-warn', index) }),
    };
    const instances = {};
    for (const [name, start] of Object.entries(kinds)) {
      instances[name] = [];
      for (let index = 0; index < processes; index++) {
        const child = await start(index);
        children.push(child);
        instances[name].push({ child, url: undefined });
      }
    }
    for (const list of Object.values(instances)) for (const instance of list) instance.url = await instance.child.ready;

    for (const [name, list] of Object.entries(instances)) {
      for (const { url } of list) {
        const check = await fetch(`${url}${PATH}`, { headers });
        if (check.status !== 200) throw new Error(`${name} answered ${check.status}: ${await check.text()}`);
        await load(url, headers, { seconds: warmupSeconds, connections });
      }
    }
    const names = Object.keys(instances);
    const results = Object.fromEntries(names.map((name) => [name, []]));
    const perProcess = Object.fromEntries(names.map((name) => [name, instances[name].map(() => [])]));
    for (let round = 0; round < rounds; round++) {
      // Interleaved, and in alternating order, so that drift in the machine's load hits all alike.
      const order = round % 2 === 0 ? names : [...names].reverse();
      for (const name of order) {
        for (const [index, { child, url }] of instances[name].entries()) {
          const result = await load(url, headers, { seconds, connections, pid: child.pid });
          results[name].push(result);
          perProcess[name][index].push(result);
          const which = processes > 1 ? ` #${index + 1}` : '';
          log(`round ${round + 1}/${rounds} ${name}${which}: ${(result.latencies.length / result.elapsed).toFixed(0)} req/s`);
        }
      }
    }
    const figures = Object.fromEntries(
      names.map((name) => [
        name,
        {
          ...summarize(results[name]),
          cpuUsPerRequestByProcess: perProcess[name].map((list) => summarize(list).cpuUsPerRequest),
        },
      ]),
    );
    const versusBare = (f) => ({
      throughput: f.reqPerSec / figures.bare.reqPerSec,
      p50DeltaMs: f.p50Ms - figures.bare.p50Ms,
      p99DeltaMs: f.p99Ms - figures.bare.p99Ms,
      cpu: f.cpuUsPerRequest === undefined ? undefined : f.cpuUsPerRequest / figures.bare.cpuUsPerRequest,
    });
    return {
      connections,
      upstreamDelayMs,
      rounds,
      secondsPerRound: seconds,
      processes,
      ...figures,
      ratio: versusBare(figures.gateway),
      ...(withoutLogging && { ratioWithoutLogging: versusBare(figures.gatewayWithoutLogging) }),
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
      withoutLogging: !process.argv.includes('--no-quiet'),
      processes: number('--processes'),
      upstreamDelayMs: number('--upstream-delay'),
      log: (line) => console.log(line),
    });
    const signed = (value, digits) => `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;
    const cpu = (f) => {
      if (f.cpuUsPerRequest === undefined) return '';
      const each =
        f.cpuUsPerRequestByProcess.length > 1
          ? ` (by process: ${f.cpuUsPerRequestByProcess.map((us) => us.toFixed(0)).join(', ')})`
          : '';
      return `   cpu ${f.cpuUsPerRequest.toFixed(0)} µs/request${each}`;
    };
    const row = (name, f) =>
      `${name.padEnd(30)} ${f.reqPerSec.toFixed(0).padStart(8)} req/s   p50 ${f.p50Ms.toFixed(2)} ms   p99 ${f.p99Ms.toFixed(2)} ms${cpu(f)}   (${f.requests} requests, ${f.errors} errors)`;
    const ratioLine = (name, r) =>
      `${name.padEnd(30)} throughput ${(r.throughput * 100).toFixed(1)} %, p50 ${signed(r.p50DeltaMs, 2)} ms, p99 ${signed(r.p99DeltaMs, 2)} ms${r.cpu === undefined ? '' : `, cpu per request x${r.cpu.toFixed(2)}`}`;
    console.log(
      `\nauthenticated GET ${PATH}, ${figures.connections} in flight, ${figures.rounds} interleaved rounds of ${figures.secondsPerRound} s, ${figures.processes} process(es) of each, upstream answering ${figures.upstreamDelayMs > 0 ? `after ${figures.upstreamDelayMs} ms` : 'at once'}`,
    );
    console.log(row('bare @fastify/http-proxy', figures.bare));
    console.log(row(`gateway (LOG_LEVEL=${process.env.LOG_LEVEL ?? 'info'})`, figures.gateway));
    if (figures.gatewayWithoutLogging) console.log(row('gateway (LOG_LEVEL=warn)', figures.gatewayWithoutLogging));
    console.log(ratioLine('gateway / bare:', figures.ratio));
    if (figures.ratioWithoutLogging) console.log(ratioLine('gateway without logging / bare:', figures.ratioWithoutLogging));
  }
}
