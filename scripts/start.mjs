#!/usr/bin/env node
// Runs the platform locally: auth server, event server (EVENT_REPLICAS of them) and gateway as separate
// processes, each with its own readable log prefix. First it compiles what changed with SWC (scripts/build-fast.mjs), then
// it starts the servers and prints the time to ready. A server that dies is restarted by this supervisor
// (after 1 s, doubling up to 30 s while it keeps dying; the others keep running); only a server that crashes
// again and again right after starting makes it give up and stop the stack. Ctrl-C (or SIGTERM, to this
// process or to the npm that started it) stops them all gracefully.
//
// MONGODB_URI names the MongoDB server to use. Without it, an embedded MongoDB (mongodb-memory-server,
// a real mongod) is started with its data under .data/mongo, so a restart keeps users and events.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const useColor = process.stdout.isTTY;
const paint = (color, text) => (useColor ? `\u001b[${color}m${text}\u001b[0m` : text);

/**
 * EVENT_REPLICAS=N runs N event servers (default 1, at most 8) on EVENT_PORT, EVENT_PORT+1, ...: the
 * gateway balances over them (EVENT_SERVICE_URL lists them all, unless set), and the auth server's relay
 * delivers to the first. Each is supervised on its own: killing one leaves the others serving.
 *
 * The ports are judged here too, not left to the servers: this supervisor connects to each one (a port
 * like "abc" or 70000 would crash it with a stack trace), and two servers given one address and port would
 * each crash five times on EADDRINUSE before it gave up. Unset or blank is the default, as the servers read
 * it; 0 (any free port), which a server accepts, is refused: the supervisor must know where each server
 * listens. Two servers may share a port on different hosts (AUTH_HOST=127.0.0.2, EVENT_HOST=127.0.0.3);
 * 0.0.0.0 and :: take the port on every address, so they share it with no other host.
 */
function stackPlan() {
  const whole = (text) => (/^\d+$/.test(text) ? Number(text) : NaN);
  const text = process.env.EVENT_REPLICAS ?? '1';
  const replicas = whole(text);
  if (!(replicas >= 1 && replicas <= 8)) return { problem: `EVENT_REPLICAS must be a whole number from 1 to 8, got "${text}"` };
  const ports = {};
  for (const [name, fallback] of [
    ['AUTH_PORT', 3001],
    ['EVENT_PORT', 3002],
    ['GATEWAY_PORT', 3000],
  ]) {
    const portText = (process.env[name] ?? '').trim();
    ports[name] = portText === '' ? fallback : whole(portText);
    if (!(ports[name] >= 1 && ports[name] <= 65_535)) {
      return { problem: `${name} must be a whole number from 1 to 65535, got "${portText}"` };
    }
  }
  if (ports.EVENT_PORT + replicas - 1 > 65_535) {
    return { problem: `EVENT_PORT must leave room for ${replicas} ports (EVENT_REPLICAS), got "${ports.EVENT_PORT}"` };
  }
  // Blank is the servers' default host.
  const hosts = {};
  for (const name of ['AUTH_HOST', 'EVENT_HOST', 'GATEWAY_HOST']) hosts[name] = (process.env[name] ?? '').trim() || '127.0.0.1';
  // The event servers take EVENT_PORT and the EVENT_REPLICAS - 1 ports after it.
  const listeners = [
    { host: 'AUTH_HOST', port: ports.AUTH_PORT },
    { host: 'GATEWAY_HOST', port: ports.GATEWAY_PORT },
    ...Array.from({ length: replicas }, (_, index) => ({ host: 'EVENT_HOST', port: ports.EVENT_PORT + index })),
  ];
  const [first, second] =
    listeners
      .flatMap((one, index) => listeners.slice(index + 1).map((other) => [one, other]))
      .find(([one, other]) => one.port === other.port && sameAddress(hosts[one.host], hosts[other.host])) ?? [];
  if (first) {
    const event =
      replicas > 1
        ? `EVENT_PORT=${ports.EVENT_PORT} (with EVENT_REPLICAS=${replicas}: ${ports.EVENT_PORT}-${ports.EVENT_PORT + replicas - 1})`
        : `EVENT_PORT=${ports.EVENT_PORT}`;
    return {
      problem:
        `GATEWAY_PORT, AUTH_PORT and EVENT_PORT must each name a port of its own, got GATEWAY_PORT=${ports.GATEWAY_PORT}, ` +
        `AUTH_PORT=${ports.AUTH_PORT}, ${event}: ${first.host}=${hosts[first.host]} and ${second.host}=${hosts[second.host]} ` +
        `would both listen on port ${first.port} (servers share a port only on different hosts; 0.0.0.0 and :: are every host)`,
    };
  }
  return { replicas, ports, hosts };
}

/** Whether a host to listen on is every address of the machine. */
function isWildcard(host) {
  return host === '0.0.0.0' || host === '::';
}

/** Whether two hosts name one address to listen on: the same, a wildcard (every address), or localhost's. */
function sameAddress(one, other) {
  const [a, b] = [one.toLowerCase(), other.toLowerCase()];
  const loopback = (host) => host === '127.0.0.1' || host === '::1';
  return a === b || isWildcard(a) || isWildcard(b) || (a === 'localhost' && loopback(b)) || (b === 'localhost' && loopback(a));
}
const plan = stackPlan();
if (plan.problem) {
  process.stdout.write(`${paint(31, plan.problem)}\n`);
  process.exit(1);
}
const eventServers = Array.from({ length: plan.replicas }, (_, index) => ({
  name: index === 0 ? 'event' : `event-${index + 1}`,
  entry: 'event-server/dist/main.js',
  color: 35,
  host: 'EVENT_HOST',
  port: 'EVENT_PORT',
  // With one replica, EVENT_PORT stays as given.
  ...(plan.replicas > 1 && { ownPort: plan.ports.EVENT_PORT + index }),
}));
const services = [
  { name: 'auth', entry: 'auth-server/dist/main.js', color: 36, host: 'AUTH_HOST', port: 'AUTH_PORT' },
  ...eventServers,
  { name: 'gateway', entry: 'gateway/dist/main.js', color: 33, host: 'GATEWAY_HOST', port: 'GATEWAY_PORT' },
];
const LEVELS = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };

function say(message) {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${paint(1, '[supervisor]')} ${message}\n`);
}

/** A server's log line as the JSON object it is, or undefined for any other text. */
function logEntryOf(line) {
  try {
    const entry = JSON.parse(line);
    return typeof entry === 'object' && entry !== null ? entry : undefined;
  } catch {
    return undefined;
  }
}

/** Pino's JSON lines, made readable: time, level, service, message, request id and method/url/status. */
function readable(service, line, entry) {
  if (!entry) return `${paint(service.color, `[${service.name}]`.padEnd(10))} ${line}`;
  const time = new Date(entry.time ?? Date.now()).toISOString().slice(11, 19);
  const level = LEVELS[entry.level] ?? String(entry.level);
  const parts = [entry.msg ?? ''];
  if (entry.req) parts.push(`${entry.req.method} ${entry.req.url}`);
  if (entry.res) parts.push(`${entry.res.statusCode} ${Math.round(entry.responseTime ?? 0)}ms`);
  if (entry.context) parts.unshift(`${entry.context}:`);
  if (entry.upstream) parts.push(`upstream=${entry.upstream}`);
  if (entry.code) parts.push(`code=${entry.code}`);
  if (entry.reqId) parts.push(paint(2, `reqId=${entry.reqId}`));
  if (entry.err?.stack) parts.push(`\n${entry.err.stack}`);
  const tint = entry.level >= 50 ? 31 : entry.level >= 40 ? 33 : 0;
  return `${time} ${paint(tint, level)} ${paint(service.color, `[${service.name}]`.padEnd(10))} ${parts.join(' ')}`;
}

// npm ci refuses an older Node (engines), but npm start would run the servers on it anyway.
const nodeMajor = Number(process.versions.node.split('.')[0]);
if (nodeMajor !== 24) {
  say(paint(31, `this is Node ${process.versions.node}; the platform runs on Node 24 (see .nvmrc: nvm use)`));
  process.exit(1);
}

/** What shutdown() reads: declared before anything it may interrupt. */
let mongo;
const running = new Map();
const timers = new Set();
let stopping = false;
/** Every server started, so announceReady looks at the stack once. */
let stackReady = false;
/** 'ready in N s' was said. */
let readySaid = false;

// From here on a stop asked for (Ctrl-C, SIGTERM, ...) stops whatever has started, at any step.
process.on('SIGINT', () => void shutdown(0, 'SIGINT'));
process.on('SIGTERM', () => void shutdown(0, 'SIGTERM'));
// The terminal closed: nobody is left to press Ctrl-C, so stop rather than leave servers behind.
process.on('SIGHUP', () => void shutdown(0, 'SIGHUP'));
// `kill <npm's pid>` after `npm start &` ends npm alone (it runs this script through `sh -c`, which does not
// pass the signal on): this process would be re-parented and keep the whole stack running, with nobody left
// to stop it. So a parent that goes away stops the stack as SIGTERM does. (unref: it keeps nothing alive.)
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) void shutdown(0, 'its parent process ended');
}, 1_000).unref();

// Another stack (another npm start?) on these ports is told before anything is done: compiling would rewrite
// the dist/ folders its servers run from, and an embedded MongoDB would be refused the .data/ folder its
// mongod holds, which the download failure's hint would then misreport. (answers() is declared below.)
const taken = [];
for (const service of services) if (await answers(addressOf(service))) taken.push(`${service.name} ${addressOf(service).port}`);
if (taken.length > 0) {
  say(paint(31, `port already in use (${taken.join(', ')}): is the stack already running? Stop it first, or move this one with`));
  say(paint(31, 'GATEWAY_PORT, AUTH_PORT and EVENT_PORT.'));
  process.exit(1);
}

// Imported here, not at the top: before `npm ci` its @swc/core is missing, and a static import would fail
// with Node's ERR_MODULE_NOT_FOUND before any of the checks above could say anything useful.
const { buildServers } = await import('./build-fast.mjs').catch((error) => {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  say(paint(31, `the dependencies are not installed (${error.message.split('\n')[0]}): run npm ci first`));
  process.exit(1);
});
const buildStartedAt = performance.now();
const built = (await buildServers()).filter((result) => result.built).map((result) => result.pkg);
say(
  built.length > 0
    ? `compiled ${built.join(', ')} with SWC in ${Math.round(performance.now() - buildStartedAt)} ms (npm run check type-checks)`
    : 'sources unchanged since the last start: nothing to compile',
);

async function embeddedMongo() {
  const dbPath = join(root, '.data', 'mongo');
  mkdirSync(dbPath, { recursive: true });
  say(`MONGODB_URI is not set: starting an embedded MongoDB (mongodb-memory-server), data kept in ${dbPath}`);
  const { MongoMemoryServer } = await import('mongodb-memory-server-core');
  // On a failure the library prints its error with a stack trace (console.warn); the reason is said below, once.
  const warn = console.warn;
  console.warn = () => {};
  let server;
  try {
    server = await MongoMemoryServer.create({ instance: { dbPath, storageEngine: 'wiredTiger' } });
  } finally {
    console.warn = warn;
  }
  say(`embedded MongoDB ready at ${server.getUri()}`);
  return server;
}

// Blank is unset, and the value is taken trimmed, as the servers read it.
const givenMongoUri = (process.env.MONGODB_URI ?? '').trim();
mongo = givenMongoUri
  ? undefined
  : await embeddedMongo().catch((error) => {
      say(`could not start an embedded MongoDB: ${error.message}`);
      say('(the first start downloads a mongod, which needs the internet)');
      say('set MONGODB_URI to a running MongoDB (or FerretDB) and try again; without the internet,');
      say('`bash scripts/ferretdb-store.sh` builds and starts a FerretDB and prints its MONGODB_URI');
      process.exit(1);
    });
/** The servers' environment: the settings judged here are given as judged (trimmed, defaults filled in). */
const env = {
  ...process.env,
  ...Object.fromEntries(Object.entries(plan.ports).map(([name, port]) => [name, String(port)])),
  ...plan.hosts,
  MONGODB_URI: givenMongoUri || mongo.getUri(),
};
// Node 24 runs the .ts module as it is (its types stripped), as `npm run demo` does.
const { shownMongoUri } = await import('./mongo-uri.ts');
const shownUri = shownMongoUri(env.MONGODB_URI);
if (mongo) say(`using MongoDB at ${env.MONGODB_URI}`);
else {
  say(`using MONGODB_URI=${shownUri}`);
  const { MongoClient } = await import('mongodb');
  let client;
  try {
    // The driver parses the URI here, before any connection: what it refuses is a bad setting, not a store
    // that does not answer.
    client = new MongoClient(env.MONGODB_URI, { serverSelectionTimeoutMS: 5_000 });
  } catch (error) {
    say(paint(31, `MONGODB_URI=${shownUri} is malformed: ${error.message}`));
    say('it takes the form mongodb://[user:password@]host[:port][,host2...]/[?options] or mongodb+srv://user:password@host/');
    say('(characters such as @ : / ? # [ ] % in the user name or password are written percent-encoded, @ as %40)');
    process.exit(1);
  }
  await reachable(client).catch((error) => {
    // Otherwise each server retries for over a minute, saying only "Unable to connect", then dies and is
    // restarted, again and again: a wrong URI is a bad setting, told at once.
    say(paint(31, `MONGODB_URI=${shownUri} does not answer: ${error.message}`));
    say('start a MongoDB (or FerretDB) there, or set MONGODB_URI to one that runs, and try again');
    process.exit(1);
  });
  // mongodb://host/name: the servers do not keep their data in `name` (it is where the driver authenticates).
  const named = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]+)/.exec(env.MONGODB_URI)?.[1];
  if (named) {
    say(
      `note: the data goes to the databases ${env.AUTH_DB_NAME ?? 'auth'} and ${env.EVENT_DB_NAME ?? 'event'} ` +
        `(AUTH_DB_NAME, EVENT_DB_NAME), not to "${decodeURIComponent(named)}" named in MONGODB_URI`,
    );
  }
}

/** Resolves once the client's MongoDB server answers a ping (within 5 s); rejects with the driver's reason. */
async function reachable(client) {
  try {
    await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close().catch(() => {});
  }
}

/** Restart policy: the first restart after 1 s, doubling up to 30 s while the server keeps dying. */
const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 30_000;
/**
 * A run shorter than this, or one that ended before the server listened (within STABLE_MS), is a crash
 * "right after starting" (a port in use, the database, ...): a busy machine may take longer than this to
 * start one.
 */
const IMMEDIATE_CRASH_MS = 10_000;
/** This many immediate crashes in a row and restarting is pointless: give up and stop the stack. */
const GIVE_UP_AFTER = 5;
/** A server that ran this long before dying starts over at the first delay. */
const STABLE_MS = 60_000;
/** A server's exit code when its settings are wrong (CONFIG_ERROR_EXIT_CODE in libs/server-kit/src/main-runner.ts). */
const CONFIG_ERROR_EXIT_CODE = 78;

/** Where a server listens, as this machine reaches it (a wildcard address is reached on loopback). */
function addressOf(service) {
  const host = isWildcard(plan.hosts[service.host]) ? '127.0.0.1' : plan.hosts[service.host];
  return { host, port: service.ownPort ?? plan.ports[service.port] };
}
function urlOf({ host, port }) {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
const gatewayUrl = urlOf(addressOf(services.at(-1)));

/**
 * What a server's process is given besides the supervisor's environment: a replica its port, and the URLs
 * the servers reach each other by, unless set, where the others listen. (The servers' own defaults name
 * 127.0.0.1 and follow the ports only: AUTH_HOST=127.0.0.2 would leave the gateway asking 127.0.0.1.)
 */
function envOf(service) {
  const own = { ...env };
  if (service.ownPort !== undefined) own[service.port] = String(service.ownPort);
  const authUrl = urlOf(addressOf(services.find((other) => other.name === 'auth')));
  const eventUrls = eventServers.map((replica) => urlOf(addressOf(replica)));
  if (service.name === 'gateway') {
    own.AUTH_SERVICE_URL = env.AUTH_SERVICE_URL || authUrl;
    // Every replica: the gateway balances over them.
    own.EVENT_SERVICE_URL = env.EVENT_SERVICE_URL || eventUrls.join(',');
  }
  // Its outbox relay delivers to one event server: the first.
  if (service.name === 'auth') own.EVENT_SERVICE_URL = env.EVENT_SERVICE_URL || eventUrls[0];
  if (service.port === 'EVENT_PORT') own.AUTH_JWKS_URL = env.AUTH_JWKS_URL || `${authUrl}/.well-known/jwks.json`;
  return own;
}

/**
 * Whether the servers write their info lines (LOG_LEVEL, read as they read it): then the supervisor waits for
 * the lines it summarises, so that its own summary comes after them, not among them.
 */
const writesInfo = ['info', 'debug', 'trace'].includes((env.LOG_LEVEL ?? '').trim() || 'info');
/** A server's own line once it listens (main-runner's runServer). */
const READY_LINE = /^ready in \d+ ms on /;

/**
 * Whether a probe's connection is to itself, not to a server: a port in the ephemeral range that nothing listens
 * on yet may be given to the probe as its own source port, and TCP then connects the two ends (simultaneous
 * open). Closed normally, that connection would then hold the port in TIME-WAIT for a minute and the server
 * could not listen on it (EADDRINUSE, restarted in a loop): it is reset instead.
 */
function connectedToItself(socket) {
  if (socket.localPort !== socket.remotePort || socket.localAddress !== socket.remoteAddress) return false;
  socket.resetAndDestroy();
  return true;
}

/** Resolves once the port accepts a connection (the server listens), without a request in its log. */
function listening({ host, port }, isCurrent) {
  return new Promise((resolve) => {
    const attempt = () => {
      if (!isCurrent()) return;
      const socket = connect({ host, port });
      socket.once('connect', () => {
        if (connectedToItself(socket)) return void setTimeout(attempt, 100);
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}
const state = new Map(services.map((service) => [service.name, { delay: FIRST_DELAY_MS, immediateCrashes: 0 }]));

/**
 * Resolves with true once the server prints a line that `test` accepts (after this call), or with false if
 * its process ends first.
 */
function printed(service, test) {
  return new Promise((resolve) => state.get(service.name).awaited.push({ test, resolve }));
}

function launch(service) {
  if (stopping) return;
  const entry = state.get(service.name);
  entry.startedAt = performance.now();
  entry.ready = false;
  entry.lastLines = [];
  for (const { resolve } of entry.awaited ?? []) resolve(false);
  entry.awaited = [];
  const child = spawn(process.execPath, ['--enable-source-maps', join(root, service.entry)], {
    cwd: root,
    env: envOf(service),
    // The channel closes when this process ends, however (SIGKILL too): the server then stops (runServer).
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  running.set(service.name, child);
  if (entry.restarts > 0) say(`${service.name} server restarting (pid ${child.pid})`);
  else say(`${service.name} server starting (pid ${child.pid})`);
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      const logEntry = logEntryOf(line);
      const text = readable(service, line, logEntry);
      entry.lastLines.push(text);
      if (entry.lastLines.length > 5) entry.lastLines.shift();
      process.stdout.write(`${text}\n`);
      if (logEntry && entry.awaited.length > 0) {
        const met = entry.awaited.filter(({ test }) => test(logEntry));
        entry.awaited = entry.awaited.filter((awaited) => !met.includes(awaited));
        for (const { resolve } of met) resolve(true);
      }
    });
  }
  child.on('exit', (code, signal) => {
    for (const { resolve } of entry.awaited) resolve(false);
    entry.awaited = [];
    onExit(service, code, signal);
  });
  const isCurrent = () => running.get(service.name) === child && !stopping;
  // Started: it listens, and it has said so (its line comes before the supervisor's about it).
  void Promise.all([
    listening(addressOf(service), isCurrent),
    writesInfo ? printed(service, (logEntry) => READY_LINE.test(String(logEntry.msg))) : true,
  ]).then(([, said]) => {
    if (said && isCurrent()) onReady(service);
  });
}

function onReady(service) {
  const entry = state.get(service.name);
  entry.ready = true;
  if (entry.restarts > 0) say(paint(32, `${service.name} server is back (restart ${entry.restarts})`));
  if (!stackReady && [...state.values()].every((other) => other.ready)) void announceReady();
}

/**
 * Once every server said it listens, one look at the gateway's /health confirms the stack answers. The
 * summary is the last line of the start: it waits for the lines that look writes (the gateway's, and those of
 * the servers the gateway asks in turn, unless their URLs were set to somewhere else), which each server
 * writes in its next batch.
 */
async function announceReady() {
  stackReady = true;
  const asked = services.filter(
    (service) =>
      service.name === 'gateway' ||
      (service.port === 'AUTH_PORT' && !env.AUTH_SERVICE_URL) ||
      (service.port === 'EVENT_PORT' && !env.EVENT_SERVICE_URL),
  );
  const logged = writesInfo
    ? asked.map((service) => printed(service, (logEntry) => logEntry.req?.url === '/health' && logEntry.res !== undefined))
    : [];
  const response = await fetch(`${gatewayUrl}/health`).catch(() => undefined);
  // Stopped during the look (Ctrl-C just after the last server started): the servers were closing under it,
  // so its answer says nothing about the stack, and shutdown() says the one line there is to say. Ctrl-C
  // signals the servers and this process at once: a gateway that closed at once refuses the look, and that
  // refusal may be read before this process's own signal, which waits in the same turn of the event loop.
  await new Promise((resolve) => setImmediate(resolve));
  if (stopping) return;
  const seconds = (performance.now() / 1000).toFixed(1);
  if (!response?.ok) {
    say(paint(33, `all servers listen after ${seconds} s, but ${gatewayUrl}/health answered ${response?.status ?? 'nothing'}`));
    return;
  }
  await Promise.all(logged);
  if (stopping) return;
  readySaid = true;
  say(paint(32, `ready in ${seconds} s: ${gatewayUrl} (Swagger UI at ${gatewayUrl}/docs)`));
}

function onExit(service, code, signal) {
  running.delete(service.name);
  if (stopping) return;
  const entry = state.get(service.name);
  const ranForMs = performance.now() - entry.startedAt;
  const why = signal ? `killed by ${signal}` : `exited with code ${code}`;
  const immediate = ranForMs < IMMEDIATE_CRASH_MS || (!entry.ready && ranForMs < STABLE_MS);
  entry.immediateCrashes = immediate ? entry.immediateCrashes + 1 : 0;
  if (ranForMs >= STABLE_MS) entry.delay = FIRST_DELAY_MS;
  // A server that refused its settings (main-runner's CONFIG_ERROR_EXIT_CODE) would refuse them again.
  if (code === CONFIG_ERROR_EXIT_CODE) {
    say(
      paint(
        31,
        `${service.name} server refused its settings (exit code ${code}); restarting it would not help. Its last output:`,
      ),
    );
    for (const line of entry.lastLines) process.stdout.write(`  ${line}\n`);
    say(paint(31, 'stopping the stack. Fix the setting named above (see .env.example), then start it again.'));
    void shutdown(1);
    return;
  }
  if (entry.immediateCrashes >= GIVE_UP_AFTER) {
    say(
      paint(
        31,
        `${service.name} server crashed ${entry.immediateCrashes} times in a row right after starting ` +
          `(before it listened, or within ${IMMEDIATE_CRASH_MS / 1000} s) ` +
          `(last: ${why}); restarting it again would not help. Its last output:`,
      ),
    );
    for (const line of entry.lastLines) process.stdout.write(`  ${line}\n`);
    say(
      paint(
        31,
        'giving up: stopping the stack. Fix the cause above (a setting, a port in use, the database), then start it again.',
      ),
    );
    void shutdown(1);
    return;
  }
  const delay = entry.delay;
  entry.delay = Math.min(delay * 2, MAX_DELAY_MS);
  entry.restarts = (entry.restarts ?? 0) + 1;
  say(
    paint(
      31,
      `${service.name} server stopped (${why}) after ${(ranForMs / 1000).toFixed(1)} s; restarting it in ${delay / 1000} s ` +
        '(the other servers keep running)',
    ),
  );
  const timer = setTimeout(() => {
    timers.delete(timer);
    if (!stopping) launch(service);
  }, delay);
  timers.add(timer);
}

/** A port already answering means another stack (another npm start?) runs there: two would fight over it. */
function answers({ host, port }) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      if (connectedToItself(socket)) return resolve(false);
      resolve(true);
      socket.destroy();
    });
    socket.once('error', () => resolve(false));
  });
}
if (eventServers.length > 1) {
  const ports = eventServers.map((replica) => addressOf(replica).port).join(', ');
  say(`${eventServers.length} event servers (EVENT_REPLICAS) on ports ${ports}: the gateway balances over them`);
}
for (const service of services) launch(service);

/**
 * Stops every server (SIGTERM, then SIGKILL after 10 s) and the embedded MongoDB, then exits. Asked for
 * (`why`: a signal) before the stack was ready, it says one line once all is stopped: the servers it cuts
 * short end quietly (main-runner), and their last lines come before it.
 */
async function shutdown(exitCode = 0, why = undefined) {
  if (stopping) return;
  stopping = true;
  const whileStarting = why !== undefined && !readySaid;
  for (const timer of timers) clearTimeout(timer);
  if (!whileStarting) say('stopping all servers (in-flight requests finish first)');
  // 'close': the process ended and its output was read to the end.
  const closed = [...running.values()].map((child) => new Promise((resolve) => child.once('close', resolve)));
  for (const child of running.values()) child.kill('SIGTERM');
  const deadline = setTimeout(() => {
    for (const child of running.values()) child.kill('SIGKILL');
  }, 10_000);
  await Promise.all(closed);
  clearTimeout(deadline);
  if (mongo) await mongo.stop({ doCleanup: false });
  say(whileStarting ? `stopped (${why} before the stack was ready)` : 'stopped');
  process.exit(exitCode);
}
