// The store on cores of its own, for a few of the bench's rounds: as it runs in production, on a machine of its
// own, where the servers' CPU does not take the store's. On a small machine that runs everything (the bench's
// 2 cores), claims through the gateway and the store's own inserts share the cores differently: the floor's
// inserts have every core for the store, the claims' store commands only what the servers leave. With the
// store held to its half of the cores and the client and the servers to the other half, both are measured on
// the same store capacity. Linux only (`taskset`, /proc); anywhere else, or with one core, or a store that is
// not a process on this machine, `storeApart` says why it cannot and the bench prints that instead.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** The local store's processes: FerretDB, its PostgreSQL, a mongod (by their command name; bench.mjs's cpuNow reads their CPU). */
export function storeProcessIds() {
  const ids = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (/^(ferretdb|postgres|mongod)/.test(readFileSync(`/proc/${pid}/comm`, 'utf8'))) ids.push(Number(pid));
    } catch {
      // the process ended while we looked
    }
  }
  return ids;
}

/** The CPUs this process may run on, from /proc/self/status ("Cpus_allowed_list: 0-3,6"). */
function allowedCpus() {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((text) => text.startsWith('Cpus_allowed_list:'));
  const cpus = [];
  for (const part of (line?.split(':')[1] ?? '').trim().split(',')) {
    if (part === '') continue;
    const [first, last = first] = part.split('-').map(Number);
    for (let cpu = first; cpu <= last; cpu += 1) cpus.push(cpu);
  }
  return cpus;
}

/** Every thread of `pid` on `cpus` (taskset -a); nothing when it cannot (the process ended, or is not ours). */
function pin(pid, cpus) {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpus.join(','), String(pid)], { stdio: 'ignore' });
  } catch {
    // left where it was
  }
}

/**
 * `{ run(fn), cores }` where `run` calls `fn` with the local store's processes on the upper half of this
 * process's CPUs and this process and `serverPids()` on the lower half, and puts every one back on all of
 * them after (also when `fn` throws); or `{ reason }` when that cannot be done here.
 */
export function storeApart(serverPids) {
  let cpus;
  try {
    cpus = allowedCpus();
    if (storeProcessIds().length === 0) return { reason: 'the store is not a process on this machine' };
  } catch {
    return { reason: 'no /proc here' };
  }
  if (cpus.length < 2) return { reason: `${cpus.length} CPU for this process` };
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
  } catch {
    return { reason: 'no taskset here' };
  }
  const storeCpus = cpus.slice(Math.ceil(cpus.length / 2));
  const serverCpus = cpus.slice(0, Math.ceil(cpus.length / 2));
  const nodePids = () => [process.pid, ...serverPids()];
  const putBack = () => {
    for (const pid of [...storeProcessIds(), ...nodePids()]) pin(pid, cpus);
  };
  return {
    cores: { store: storeCpus, servers: serverCpus },
    async run(fn) {
      // PostgreSQL backends forked while they are held inherit their postmaster's CPUs.
      // A bench that ends meanwhile (an error, Ctrl-C) leaves no store held to half the machine.
      const interrupted = () => process.exit(130);
      process.on('exit', putBack);
      process.once('SIGINT', interrupted);
      for (const pid of storeProcessIds()) pin(pid, storeCpus);
      for (const pid of nodePids()) pin(pid, serverCpus);
      try {
        return await fn();
      } finally {
        putBack();
        process.off('exit', putBack);
        process.off('SIGINT', interrupted);
      }
    },
  };
}
