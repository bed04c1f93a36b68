import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { shownMongoUri } from '../scripts/mongo-uri.js';
import { checkStore } from '../test-support/store-check.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** A loopback port nothing listens on (taken, then given back). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("the tests' store (MONGODB_URI)", () => {
  it('is checked at once: one that answers passes', async () => {
    await expect(checkStore(inject('mongoUri'))).resolves.toBeUndefined();
  });

  it('one that does not answer is named with the reason and what to do, its password hidden', async () => {
    const uri = `mongodb://tester:s3cret@127.0.0.1:${await closedPort()}/`;
    const failure = await checkStore(uri, 1_000).then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(failure).toContain(`MONGODB_URI=mongodb://***@127.0.0.1:`);
    expect(failure).toContain('does not answer');
    expect(failure).toContain('scripts/ferretdb-store.sh');
    expect(failure).not.toContain('s3cret');
  });

  it('one the driver cannot read is called malformed', async () => {
    await expect(checkStore('127.0.0.1:27017')).rejects.toThrow(/MONGODB_URI=127\.0\.0\.1:27017 is malformed/);
    expect(shownMongoUri('mongodb://a:b@h/?authMechanismProperties=AWS_SESSION_TOKEN:x')).toBe(
      'mongodb://***@h/?authMechanismProperties=***',
    );
  });

  it('a run against a store that does not answer stops before any test, saying so', async () => {
    const uri = `mongodb://127.0.0.1:${await closedPort()}/`;
    const run = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', 'libs/server-kit/src/env.spec.ts'], {
      cwd: root,
      env: { ...process.env, MONGODB_URI: uri, CI: '', FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    run.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    run.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => run.on('close', resolve));
    expect(code).not.toBe(0);
    expect(output).toContain(`MONGODB_URI=${uri} does not answer`);
    expect(output).not.toMatch(/✓|Tests\s+\d+ passed/);
  }, 120_000);
});
