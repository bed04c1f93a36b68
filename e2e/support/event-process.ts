import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const READY_TIMEOUT_MS = 30_000;

/**
 * The event server as a process of its own (its real main.ts, compiled on the fly by SWC), so that
 * stopping it is a SIGKILL: no shutdown hook, no request finished, exactly what a crash leaves behind.
 */
export function eventServerProcess(env: Record<string, string>, port: number) {
  let child: ChildProcess | undefined;
  let output = '';

  async function waitUntilHealthy(process: ChildProcess): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (process.exitCode !== null) throw new Error(`event server exited with ${process.exitCode}:\n${output}`);
      const healthy = await fetch(`http://127.0.0.1:${port}/health`)
        .then((response) => response.ok)
        .catch(() => false);
      if (healthy) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`event server not healthy after ${READY_TIMEOUT_MS} ms:\n${output}`);
  }

  return {
    async start(): Promise<void> {
      output = '';
      child = spawn(process.execPath, ['--import', './test-support/ts-hooks.mjs', 'event-server/src/main.ts'], {
        cwd: root,
        env: { PATH: process.env.PATH, ...env, EVENT_HOST: '127.0.0.1', EVENT_PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const keep = (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-20_000);
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      await waitUntilHealthy(child);
    },
    /**
     * SIGTERM, as an orchestrator stops it (a rolling deploy): `exited` settles with how the process ended,
     * which the caller awaits when it chooses (the stop may be held by what the test holds).
     */
    terminate(): { exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) throw new Error('event server not running');
      const exited = once(running, 'exit').then(([code, signal]) => ({
        code: code as number | null,
        signal: signal as NodeJS.Signals | null,
      }));
      running.kill('SIGTERM');
      return { exited };
    },
    /** SIGKILL, then wait until the process is gone (its port is free again). */
    async stop(): Promise<void> {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = once(running, 'exit');
      running.kill('SIGKILL');
      await exited;
    },
  };
}
