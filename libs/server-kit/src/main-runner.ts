import { constants } from 'node:os';
import { type INestApplication, Logger } from '@nestjs/common';
import { ConfigError } from './env.js';

/**
 * The exit code of a server whose settings are wrong (sysexits' EX_CONFIG): starting it again cannot help,
 * so a supervisor (`npm start`) stops at once instead of restarting it.
 */
export const CONFIG_ERROR_EXIT_CODE = 78;

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * How long a stop may take from its signal before the process ends anyway: the requests in flight have 8 s
 * (SHUTDOWN_GRACE_MS), the background work (a payout relay's sends, WEBHOOK_TIMEOUT_MS) its time beside them, and
 * compose sends SIGKILL 20 s after SIGTERM (stop_grace_period). A store that stops answering held the shutdown
 * for as long as it did, up to the driver's own timeouts (30 s with a store paused 30 s; 38 s with one that never
 * answered again), past compose's SIGKILL. What is cut off then is cut off as by a crash, which the reconciler
 * finishes or undoes.
 */
export const STOP_DEADLINE_MS = 15_000;

/**
 * Starts a server process: a configuration problem (exit code CONFIG_ERROR_EXIT_CODE) or a failed start
 * (exit code 1) stops the process with a clear message instead of a stack trace; SIGTERM/SIGINT close it
 * gracefully (Nest's shutdown hooks let in-flight requests finish).
 *
 * A stop asked for while it starts (Ctrl-C reaches every process of the terminal, npm start's servers
 * included; an orchestrator sends SIGTERM) ends the start quietly, with the shell's code for that signal
 * (128 + its number): what it cuts short then fails (the store connection closed under a query, say),
 * which is no failure to report with a stack trace.
 */
export async function runServer(service: string, start: () => Promise<INestApplication>): Promise<void> {
  const startedAt = performance.now();
  let stoppedBy: NodeJS.Signals | undefined;
  const onStopSignal = (signal: NodeJS.Signals): void => {
    stoppedBy ??= signal;
    // Nothing else listens yet (the app has not installed its shutdown hooks), so nothing would stop it.
    if (process.listenerCount(signal) === 0) exitStopped(signal);
  };
  for (const signal of STOP_SIGNALS) process.once(signal, onStopSignal);
  stopWithSupervisor();
  try {
    const app = await start();
    // Stopped while it started: its shutdown hooks are closing it.
    if (stoppedBy) return;
    const ms = Math.round(performance.now() - startedAt);
    // Through the app's logger, so LOG_LEVEL decides whether this line is written like any other. npm start
    // (scripts/start.mjs, READY_LINE) waits for it before it calls the stack ready.
    new Logger(service).log(`ready in ${ms} ms on ${await app.getUrl()}`);
    for (const signal of STOP_SIGNALS) process.once(signal, () => endStopBy(service, signal, STOP_DEADLINE_MS));
  } catch (error) {
    if (stoppedBy) exitStopped(stoppedBy);
    const config = error instanceof ConfigError;
    const message = config ? error.message : `failed to start: ${(error as Error).stack ?? String(error)}`;
    process.stderr.write(`${JSON.stringify({ level: 60, time: Date.now(), service, msg: message })}\n`);
    process.exit(config ? CONFIG_ERROR_EXIT_CODE : 1);
  } finally {
    // Once started, a stop signal is the app's to handle (a second one ends the process at once, as usual).
    for (const signal of STOP_SIGNALS) process.removeListener(signal, onStopSignal);
  }
}

/**
 * A server started by a supervisor over an IPC channel (`npm start`) stops as on SIGTERM when that channel
 * closes: when the supervisor ends, even killed with SIGKILL (the OOM killer, `kill -9`), which leaves it no
 * time to stop its servers. Otherwise they would run on without it, holding their ports, and the next
 * `npm start` would only find the ports taken. The channel does not keep the process alive by itself.
 */
function stopWithSupervisor(): void {
  if (!process.channel) return;
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

/** Ends the process `ms` after its stop signal if the shutdown has not ended it by then (see STOP_DEADLINE_MS). */
function endStopBy(service: string, signal: NodeJS.Signals, ms: number): void {
  setTimeout(() => {
    const message = `the stop (${signal}) did not end within ${ms} ms (a store or a receiver not answering?): ending the process`;
    process.stderr.write(`${JSON.stringify({ level: 50, time: Date.now(), service, msg: message })}\n`);
    exitStopped(signal);
  }, ms).unref();
}

function exitStopped(signal: NodeJS.Signals): never {
  process.exit(128 + constants.signals[signal]);
}
