#!/usr/bin/env node
// Runs the platform locally: auth server, event server and gateway as three separate processes, each
// with its own readable log prefix. One process dying leaves the others running, and this supervisor says
// which one stopped and why. Ctrl-C (or SIGTERM) stops them all gracefully.
//
// MONGODB_URI names the MongoDB server to use. Without it, an embedded MongoDB (mongodb-memory-server,
// a real mongod) is started with its data under .data/mongo, so a restart keeps users and events.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const services = [
  { name: 'auth', entry: 'auth-server/dist/main.js', color: 36 },
  { name: 'event', entry: 'event-server/dist/main.js', color: 35 },
  { name: 'gateway', entry: 'gateway/dist/main.js', color: 33 },
];
const useColor = process.stdout.isTTY;
const paint = (color, text) => (useColor ? `\u001b[${color}m${text}\u001b[0m` : text);
const LEVELS = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };

function say(message) {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${paint(1, '[supervisor]')} ${message}\n`);
}

/** Pino's JSON lines, made readable: time, level, service, message, request id and method/url/status. */
function readable(service, line) {
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    return `${paint(service.color, `[${service.name}]`.padEnd(10))} ${line}`;
  }
  const time = new Date(entry.time ?? Date.now()).toISOString().slice(11, 19);
  const level = LEVELS[entry.level] ?? String(entry.level);
  const parts = [entry.msg ?? ''];
  if (entry.req) parts.push(`${entry.req.method} ${entry.req.url}`);
  if (entry.res) parts.push(`${entry.res.statusCode} ${Math.round(entry.responseTime ?? 0)}ms`);
  if (entry.context) parts.unshift(`${entry.context}:`);
  if (entry.reqId) parts.push(paint(2, `reqId=${entry.reqId}`));
  if (entry.err?.stack) parts.push(`\n${entry.err.stack}`);
  const tint = entry.level >= 50 ? 31 : entry.level >= 40 ? 33 : 0;
  return `${time} ${paint(tint, level)} ${paint(service.color, `[${service.name}]`.padEnd(10))} ${parts.join(' ')}`;
}

async function embeddedMongo() {
  const dbPath = join(root, '.data', 'mongo');
  mkdirSync(dbPath, { recursive: true });
  say(`MONGODB_URI is not set: starting an embedded MongoDB (mongodb-memory-server), data kept in ${dbPath}`);
  const { MongoMemoryServer } = await import('mongodb-memory-server-core');
  const server = await MongoMemoryServer.create({ instance: { dbPath, storageEngine: 'wiredTiger' } });
  say(`embedded MongoDB ready at ${server.getUri()}`);
  return server;
}

const mongo = process.env.MONGODB_URI
  ? undefined
  : await embeddedMongo().catch((error) => {
      say(`could not start an embedded MongoDB: ${error.message}`);
      say('set MONGODB_URI to a running MongoDB (or FerretDB) and try again');
      process.exit(1);
    });
const env = { ...process.env, MONGODB_URI: process.env.MONGODB_URI ?? mongo.getUri() };
if (mongo) say(`using MongoDB at ${env.MONGODB_URI}`);
else say(`using MONGODB_URI=${env.MONGODB_URI.replace(/\/\/[^@/]*@/, '//***@')}`);

const running = new Map();
let stopping = false;

for (const service of services) {
  const child = spawn(process.execPath, [join(root, service.entry)], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.set(service.name, child);
  const lastLines = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      lastLines.push(line);
      if (lastLines.length > 5) lastLines.shift();
      process.stdout.write(`${readable(service, line)}\n`);
    });
  }
  child.on('exit', (code, signal) => {
    running.delete(service.name);
    if (stopping) return;
    const why = signal ? `killed by ${signal}` : `exited with code ${code}`;
    say(paint(31, `${service.name} server stopped (${why}); the others keep running. Restart with npm start.`));
    if (running.size === 0) shutdown(1);
  });
}

async function shutdown(exitCode = 0) {
  if (stopping) return;
  stopping = true;
  say('stopping all servers (in-flight requests finish first)');
  const exits = [...running.values()].map((child) => new Promise((resolve) => child.once('exit', resolve)));
  for (const child of running.values()) child.kill('SIGTERM');
  const deadline = setTimeout(() => {
    for (const child of running.values()) child.kill('SIGKILL');
  }, 10_000);
  await Promise.all(exits);
  clearTimeout(deadline);
  if (mongo) await mongo.stop({ doCleanup: false });
  say('stopped');
  process.exit(exitCode);
}

process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
