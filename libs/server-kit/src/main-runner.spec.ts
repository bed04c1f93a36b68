import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * A server process whose start, once it has printed "starting", waits: `hooked`, after installing what Nest's
 * enableShutdownHooks installs (a listener that closes the app, which fails the work the start awaits, as a
 * store connection closed under a query does), or else before any (as while a server still connects).
 */
const FAKE_SERVER = `
import { runServer } from '@reward/server-kit/main-runner';
setInterval(() => {}, 60_000);
await runServer('fake-server', async () => {
  let fail;
  const work = new Promise((_, reject) => (fail = reject));
  if (process.env.FAKE_PHASE === 'hooked') {
    for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => fail(new Error('Operation interrupted because client was closed')));
  }
  if (process.env.FAKE_PHASE === 'failing') setTimeout(() => fail(new Error('listen EADDRINUSE')), 10);
  process.stdout.write('starting\\n');
  return work;
});
`;

async function runFake(phase: string, signal?: NodeJS.Signals) {
  const child = spawn(process.execPath, ['--import', './test-support/ts-hooks.mjs', '--input-type=module', '-e', FAKE_SERVER], {
    cwd: root,
    env: { ...process.env, FAKE_PHASE: phase },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  await vi.waitFor(() => expect(stdout).toContain('starting'), { timeout: 20_000, interval: 20 });
  if (signal) child.kill(signal);
  const [code] = await exited;
  return { code, stdout, stderr };
}

describe('runServer', () => {
  it('ends a start stopped by Ctrl-C quietly, with the shell code for SIGINT, whether or not shutdown hooks listen yet', async () => {
    for (const phase of ['hooked', 'connecting']) {
      const { code, stdout, stderr } = await runFake(phase, 'SIGINT');
      expect(code, phase).toBe(130);
      expect(stdout, phase).toBe('starting\n');
      expect(stderr, phase).toBe('');
    }
  });

  it('ends a start stopped by SIGTERM (a supervisor, an orchestrator) quietly too', async () => {
    const { code, stderr } = await runFake('hooked', 'SIGTERM');
    expect(code).toBe(143);
    expect(stderr).toBe('');
  });

  it('still reports a start that failed on its own, with the reason, and exits with 1', async () => {
    const { code, stderr } = await runFake('failing');
    expect(code).toBe(1);
    expect(JSON.parse(stderr)).toMatchObject({
      level: 60,
      service: 'fake-server',
      msg: expect.stringMatching(/^failed to start: Error: listen EADDRINUSE/),
    });
  });
});
