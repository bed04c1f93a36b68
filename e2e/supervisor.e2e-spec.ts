import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { testDatabaseName } from '../test-support/database.js';
import { canListen, freePort } from './support/ports.js';
import { startStoreProxy } from '../test-support/store-proxy.js';

const root = fileURLToPath(new URL('../', import.meta.url));

/** A free port whose next one is free too (for two event-server replicas: EVENT_PORT and EVENT_PORT + 1). */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (await canListen(port + 1)) return port;
  }
}

async function startSupervisor(extraEnv: Record<string, string> = {}, options: { ownProcessGroup?: boolean } = {}) {
  const [gateway, auth, event] = [await freePort(), await freePort(), await freePort()];
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: root,
    // Three ports move the whole stack: the servers find each other through AUTH_PORT and EVENT_PORT.
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      MONGODB_URI: inject('mongoUri'),
      GATEWAY_PORT: String(gateway),
      AUTH_PORT: String(auth),
      EVENT_PORT: String(event),
      AUTH_DB_NAME: testDatabaseName('start_auth'),
      EVENT_DB_NAME: testDatabaseName('start_event'),
      BCRYPT_ROUNDS: '4',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // As in a terminal, where Ctrl-C signals every process of the foreground group: npm start and its servers.
    detached: options.ownProcessGroup ?? false,
  });
  const run = { child, output: '', gatewayUrl: `http://127.0.0.1:${gateway}` };
  const keep = (chunk: Buffer) => (run.output += chunk.toString());
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return run;
}

/** A stack started by `npm start`, once it says it is ready (stopped again if it never does). */
async function readySupervisor(extraEnv: Record<string, string> = {}) {
  const run = await startSupervisor(extraEnv);
  try {
    await vi.waitFor(() => expect(run.output).toMatch(/\[supervisor\] ready in \d+\.\d s: http:\/\/127\.0\.0\.1:\d+/), {
      timeout: 60_000,
      interval: 100,
    });
  } catch (error) {
    await stop(run.child);
    throw error;
  }
  return run;
}

/** A `npm start` that must stop by itself: its exit code and everything it printed. */
async function runToExit(extraEnv: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const run = await startSupervisor(extraEnv);
  try {
    const [code] = (await once(run.child, 'exit')) as [number | null];
    return { code, output: run.output };
  } finally {
    await stop(run.child);
  }
}

/** A new player registered and signed in through the gateway at `gatewayUrl`: its access token. */
async function signUpPlayer(gatewayUrl: string, name: string): Promise<string> {
  const credentials = { email: `${name}-${Date.now()}@example.com`, password: `${name}-password` };
  const post = (path: string) =>
    fetch(`${gatewayUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(credentials),
    });
  expect((await post('/auth/register')).status).toBe(201);
  const { accessToken } = (await (await post('/auth/login')).json()) as { accessToken: string };
  return accessToken;
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGINT');
  await exited;
}

// `npm start` itself (scripts/start.mjs): it compiles, starts the three servers as processes and supervises them.
describe('npm start', () => {
  let run: Awaited<ReturnType<typeof startSupervisor>> | undefined;

  beforeAll(async () => {
    run = await readySupervisor();
  }, 90_000);

  afterAll(() => stop(run?.child));

  it('answers through the gateway once it says ready', async () => {
    expect((await fetch(`${run!.gatewayUrl}/health`)).status).toBe(200);
  });

  it("says ready last: after each server's own ready line and the lines of the /health look it took", () => {
    const beforeReady = run!.output.slice(0, run!.output.search(/\[supervisor\] ready in /));
    for (const server of ['auth', 'event', 'gateway']) {
      expect(beforeReady, server).toMatch(new RegExp(`\\[${server}\\]\\s+\\S+: ready in \\d+ ms on http`));
      expect(beforeReady, server).toMatch(new RegExp(`\\[${server}\\]\\s+request completed GET /health 200`));
    }
  });

  it('restarts a server that died, says so, and never asks for another npm start', async () => {
    const pid = Number(/event server starting \(pid (\d+)\)/.exec(run!.output)?.[1]);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGKILL');
    await vi.waitFor(
      () => expect(run!.output).toMatch(/event server stopped \(killed by SIGKILL\) after [\d.]+ s; restarting it in 1 s/),
      { timeout: 10_000, interval: 50 },
    );
    await vi.waitFor(() => expect(run!.output).toMatch(/event server is back \(restart 1\)/), { timeout: 60_000, interval: 100 });
    await vi.waitFor(async () => expect((await fetch(`${run!.gatewayUrl}/health`)).status).toBe(200), {
      timeout: 30_000,
      interval: 100,
    });
    expect(run!.output).not.toMatch(/npm start/);
  }, 120_000);
});

describe('npm start with EVENT_REPLICAS=2', () => {
  let run: Awaited<ReturnType<typeof startSupervisor>> | undefined;

  beforeAll(async () => {
    run = await readySupervisor({ EVENT_REPLICAS: '2', EVENT_PORT: String(await freePortPair()) });
  }, 90_000);

  afterAll(() => stop(run?.child));

  it('runs two event servers behind the gateway, balances over both, and keeps answering when one is killed', async () => {
    expect(run!.output).toMatch(/2 event servers \(EVENT_REPLICAS\) on ports (\d+), (\d+): the gateway balances over them/);
    const beforeReady = run!.output.slice(0, run!.output.search(/\[supervisor\] ready in /));
    expect(beforeReady).toMatch(/\[event-2\]\s+request completed GET \/health 200/);
    const second = Number(/event-2 server starting \(pid (\d+)\)/.exec(run!.output)?.[1]);
    expect(second).toBeGreaterThan(0);
    expect(second).not.toBe(Number(/event server starting \(pid (\d+)\)/.exec(run!.output)?.[1]));

    // A player, through the gateway.
    const accessToken = await signUpPlayer(run!.gatewayUrl, 'replicas');
    const listEvents = () => fetch(`${run!.gatewayUrl}/events`, { headers: { authorization: `Bearer ${accessToken}` } });

    // Both replicas answer (each writes its own request line).
    await vi.waitFor(
      async () => {
        expect((await listEvents()).status).toBe(200);
        expect(run!.output).toMatch(/\[event\]\s+request completed GET \/events 200/);
        expect(run!.output).toMatch(/\[event-2\]\s+request completed GET \/events 200/);
      },
      { timeout: 30_000, interval: 50 },
    );

    // One is killed: every request still gets its answer from the other one.
    process.kill(second, 'SIGKILL');
    await vi.waitFor(() => expect(run!.output).toMatch(/event-2 server stopped \(killed by SIGKILL\)/), {
      timeout: 10_000,
      interval: 50,
    });
    for (let i = 0; i < 6; i++) expect((await listEvents()).status).toBe(200);
    await vi.waitFor(() => expect(run!.output).toMatch(/event-2 server is back \(restart 1\)/), {
      timeout: 60_000,
      interval: 100,
    });
    expect((await listEvents()).status).toBe(200);
  }, 180_000);

  it('refuses an EVENT_REPLICAS it cannot run, saying why, and starts nothing', async () => {
    const { code, output } = await runToExit({ EVENT_REPLICAS: '0' });
    expect(code).toBe(1);
    expect(output).toMatch(/EVENT_REPLICAS must be a whole number from 1 to 8, got "0"/);
    expect(output).not.toMatch(/\[(auth|event|gateway)\]/);
  }, 60_000);
});

describe('npm start with ports it cannot use', () => {
  it('refuses a port that is not one, or one port for two servers, naming the variables, and starts nothing', async () => {
    const refusals: [Record<string, string>, RegExp][] = [
      [{ AUTH_PORT: 'abc' }, /^AUTH_PORT must be a whole number from 1 to 65535, got "abc"$/m],
      [{ GATEWAY_PORT: '70000' }, /^GATEWAY_PORT must be a whole number from 1 to 65535, got "70000"$/m],
      [
        { AUTH_PORT: '47202', EVENT_PORT: '47202' },
        /^GATEWAY_PORT, AUTH_PORT and EVENT_PORT must each name a port of its own, got GATEWAY_PORT=\d+, AUTH_PORT=47202, EVENT_PORT=47202: AUTH_HOST=127\.0\.0\.1 and EVENT_HOST=127\.0\.0\.1 would both listen on port 47202 \(servers share a port only on different hosts; 0\.0\.0\.0 and :: are every host\)$/m,
      ],
      // The second replica takes the port after EVENT_PORT.
      [
        { EVENT_REPLICAS: '2', EVENT_PORT: '47202', GATEWAY_PORT: '47203' },
        /must each name a port of its own, got GATEWAY_PORT=47203, AUTH_PORT=\d+, EVENT_PORT=47202 \(with EVENT_REPLICAS=2: 47202-47203\): GATEWAY_HOST=127\.0\.0\.1 and EVENT_HOST=127\.0\.0\.1 would both listen on port 47203/m,
      ],
      // Different hosts may share a port, but not with a wildcard, which takes it on every address.
      [
        { AUTH_HOST: '0.0.0.0', EVENT_HOST: '127.0.0.3', AUTH_PORT: '47202', EVENT_PORT: '47202' },
        /AUTH_HOST=0\.0\.0\.0 and EVENT_HOST=127\.0\.0\.3 would both listen on port 47202/,
      ],
      [
        { GATEWAY_HOST: '127.0.0.2', EVENT_HOST: '::', GATEWAY_PORT: '47202', EVENT_PORT: '47202' },
        /GATEWAY_HOST=127\.0\.0\.2 and EVENT_HOST=:: would both listen on port 47202/,
      ],
      [
        { AUTH_HOST: 'localhost', GATEWAY_PORT: '47202', AUTH_PORT: '47202' },
        /AUTH_HOST=localhost and GATEWAY_HOST=127\.0\.0\.1 would both/,
      ],
    ];
    for (const [env, message] of refusals) {
      const { code, output } = await runToExit(env);
      expect(code, JSON.stringify(env)).toBe(1);
      expect(output, JSON.stringify(env)).toMatch(message);
      expect(output, JSON.stringify(env)).not.toMatch(/RangeError|EADDRINUSE|\[(auth|event|gateway)\]/);
    }
  }, 60_000);
});

describe('npm start with two servers on one port and different hosts', () => {
  let run: Awaited<ReturnType<typeof startSupervisor>> | undefined;

  afterAll(() => stop(run?.child));

  it('starts them (only the same host and port is refused), and the servers reach each other on those hosts', async () => {
    const port = String(await freePort());
    // No AUTH_SERVICE_URL, EVENT_SERVICE_URL or AUTH_JWKS_URL: npm start gives the hosts' ones.
    run = await readySupervisor({ AUTH_HOST: '127.0.0.2', EVENT_HOST: '127.0.0.3', AUTH_PORT: port, EVENT_PORT: port });
    expect(run.output).toMatch(new RegExp(`\\[auth\\]\\s+auth-server: ready in \\d+ ms on http://127\\.0\\.0\\.2:${port}`));
    expect(run.output).toMatch(new RegExp(`\\[event\\]\\s+event-server: ready in \\d+ ms on http://127\\.0\\.0\\.3:${port}`));
    expect((await fetch(`${run.gatewayUrl}/health`)).status).toBe(200);
    // Through the gateway to the auth server, then the event server checking that token with the auth server's keys.
    const accessToken = await signUpPlayer(run.gatewayUrl, 'hosts');
    const events = await fetch(`${run.gatewayUrl}/events`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(events.status).toBe(200);
    expect(run.output).toMatch(new RegExp(`\\[auth\\]\\s+OutboxRelay: delivering the outbox to http://127\\.0\\.0\\.3:${port}`));
  }, 90_000);
});

describe('npm start with its settings padded with spaces', () => {
  let run: Awaited<ReturnType<typeof startSupervisor>> | undefined;

  afterAll(() => stop(run?.child));

  it('reads them trimmed, as the servers do, and gives the servers what it judged', async () => {
    const port = await freePort();
    run = await readySupervisor({ AUTH_HOST: ' 127.0.0.1 ', EVENT_PORT: ` ${port} `, MONGODB_URI: ` ${inject('mongoUri')} ` });
    expect(run.output).toMatch(new RegExp(`\\[event\\]\\s+event-server: ready in \\d+ ms on http://127\\.0\\.0\\.1:${port}`));
    expect(run.output).toMatch(/\[auth\]\s+auth-server: ready in \d+ ms on http:\/\/127\.0\.0\.1:\d+/);
    expect((await fetch(`${run.gatewayUrl}/health`)).status).toBe(200);
  }, 90_000);
});

describe('npm start with a server that cannot start', () => {
  it('retries with a doubling delay, then gives up with the reason and stops the stack', async () => {
    // The event server's port is held on 127.0.0.2 only: free as the supervisor sees it (on 127.0.0.1),
    // but the event server, listening on every address, is refused it at each start.
    const port = await freePort();
    const holder = createServer().listen(port, '127.0.0.2');
    await once(holder, 'listening');
    try {
      const { code, output } = await runToExit({ EVENT_HOST: '0.0.0.0', EVENT_PORT: String(port) });
      expect(code).toBe(1);
      expect(output).toMatch(/event server stopped \(exited with code 1\) after [\d.]+ s; restarting it in 1 s/);
      expect(output).toMatch(/restarting it in 2 s[\s\S]*restarting it in 4 s[\s\S]*restarting it in 8 s/);
      expect(output).toMatch(/event server crashed 5 times in a row right after starting \(before it listened, or within 10 s\)/);
      expect(output).toMatch(/EADDRINUSE/);
      expect(output).toMatch(/giving up: stopping the stack/);
      expect(output).not.toMatch(/npm start/);
    } finally {
      holder.close();
    }
    // Five full starts of the event server (each fails only once it listens) and 15 s of delays: generous,
    // for a busy machine.
  }, 300_000);

  it('stops the stack at once when a server refuses its settings: starting it again would not help', async () => {
    const { code, output } = await runToExit({ CLAIM_STALE_AFTER_MS: '1' });
    expect(code).toBe(1);
    expect(output).toMatch(/event server refused its settings \(exit code 78\); restarting it would not help/);
    expect(output).toMatch(/CLAIM_STALE_AFTER_MS must be an integer/);
    expect(output).toMatch(/stopping the stack\. Fix the setting named above/);
    expect(output).not.toMatch(/restarting it in/);
  }, 60_000);

  it('stops the stack at once, naming the variable, when a server is given a host that is no address here', async () => {
    // A host name that never resolves (.invalid is reserved for that): the server cannot listen on it, and
    // starting it again cannot help, as with a refused setting.
    const { code, output } = await runToExit({ EVENT_HOST: 'no-such-host.invalid' });
    expect(code).toBe(1);
    expect(output).toMatch(/event server refused its settings \(exit code 78\); restarting it would not help/);
    expect(output).toMatch(/EVENT_HOST \(no-such-host\.invalid\) must be an address of this machine/);
    expect(output).not.toMatch(/restarting it in/);
  }, 60_000);
});

describe('npm start with a MONGODB_URI nobody answers on', () => {
  it('says so at once, naming the URI and the reason, and starts nothing', async () => {
    // A port nothing listens on (freed just before): the driver is refused at once.
    const { code, output } = await runToExit({ MONGODB_URI: `mongodb://127.0.0.1:${await freePort()}/` });
    expect(code).toBe(1);
    expect(output).toMatch(/MONGODB_URI=mongodb:\/\/127\.0\.0\.1:\d+\/ does not answer: .*ECONNREFUSED/);
    expect(output).toMatch(/set MONGODB_URI to one that runs/);
    expect(output).not.toMatch(/\[(auth|event|gateway)\]/);
  }, 60_000);
});

describe('npm start while another stack holds its ports', () => {
  it('says so before it compiles or touches the store, and starts nothing', async () => {
    // The other stack's gateway: its port answers. A second start (the same ports, in another terminal) must
    // neither rewrite the dist/ folders the running servers use nor reach for a store (the embedded one's
    // .data/ would be held by the running mongod): the store named here answers nobody, and is not asked.
    const held = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    const { port } = held.address() as { port: number };
    try {
      const { code, output } = await runToExit({
        GATEWAY_PORT: String(port),
        MONGODB_URI: `mongodb://127.0.0.1:${await freePort()}/`,
      });
      expect(code).toBe(1);
      expect(output).toMatch(new RegExp(`port already in use \\(gateway ${port}\\): is the stack already running\\?`));
      expect(output).not.toMatch(/compiled|nothing to compile|MONGODB_URI|does not answer/);
      expect(output).not.toMatch(/\[(auth|event|gateway)\]/);
    } finally {
      await new Promise<void>((resolve) => held.close(() => resolve()));
    }
  }, 60_000);
});

describe('npm start with a malformed MONGODB_URI', () => {
  it('says it is malformed, and why, not that nobody answers; the password stays hidden; it starts nothing', async () => {
    const refusals: [string, RegExp][] = [
      ['127.0.0.1:27017', /^.*MONGODB_URI=127\.0\.0\.1:27017 is malformed: Invalid scheme/m],
      // A password with an unescaped "@": hidden whole, up to the host.
      ['mongodb://reader:p@s3cret@127.0.0.1:27017/', /MONGODB_URI=mongodb:\/\/\*\*\*@127\.0\.0\.1:27017\/ is malformed: /],
      [`${inject('mongoUri')}?noSuchOption=1`, /is malformed: option nosuchoption is not supported/i],
      // Without its mongodb:// the password is as secret: hidden too.
      ['reader:s3cret@127.0.0.1:27017', /MONGODB_URI=\*\*\*@127\.0\.0\.1:27017 is malformed: Invalid scheme/],
      // Options that carry a secret are hidden, in the 'using' line as in this one.
      [
        `${inject('mongoUri')}?tlsCertificateKeyFilePassword=s3cret&authMechanismProperties=AWS_SESSION_TOKEN:s3cret&noSuchOption=1`,
        /\?tlsCertificateKeyFilePassword=\*\*\*&authMechanismProperties=\*\*\*&noSuchOption=1 is malformed: /,
      ],
    ];
    for (const [uri, message] of refusals) {
      const { code, output } = await runToExit({ MONGODB_URI: uri });
      expect(code, uri).toBe(1);
      expect(output, uri).toMatch(message);
      expect(output, uri).toMatch(/percent-encoded/);
      expect(output, uri).not.toMatch(/does not answer|s3cret|\[(auth|event|gateway)\]/);
    }
  }, 60_000);
});

describe('npm start killed with SIGKILL', () => {
  it('leaves no server running: each stops when its supervisor is gone, freeing its port', async () => {
    const run = await readySupervisor();
    const pids = [...run.output.matchAll(/(?:auth|event|gateway) server starting \(pid (\d+)\)/g)].map((match) =>
      Number(match[1]),
    );
    expect(pids).toHaveLength(3);
    const exited = once(run.child, 'exit');
    run.child.kill('SIGKILL');
    await exited;
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await vi.waitFor(() => expect(pids.filter(alive)).toEqual([]), { timeout: 30_000, interval: 100 });
    expect((await fetch(`${run.gatewayUrl}/health`).catch(() => undefined))?.status).toBeUndefined();
  }, 90_000);
});

describe('npm start stopped with Ctrl-C while it starts', () => {
  it('stops every server and says so in one line, without a stack trace', async () => {
    // The store stops answering once the servers are launched, so none can be ready: the Ctrl-C comes
    // while they start, whichever step each has reached (connecting, or building its indexes).
    const store = await startStoreProxy(inject('mongoUri'));
    const run = await startSupervisor({ MONGODB_URI: store.uri }, { ownProcessGroup: true });
    try {
      await vi.waitFor(() => expect(run.output).toMatch(/gateway server starting \(pid \d+\)/), {
        timeout: 60_000,
        interval: 10,
      });
      store.pause();
      const exited = once(run.child, 'exit') as Promise<[number | null]>;
      process.kill(-run.child.pid!, 'SIGINT');
      store.resume();
      const [code] = await exited;
      expect(code).toBe(0);
      const lines = run.output.trimEnd().split('\n');
      expect(lines.at(-1)).toMatch(/\[supervisor\] stopped \(SIGINT before the stack was ready\)$/);
      expect(run.output).not.toMatch(/FATAL|ERROR|\n\s+at |stopping all servers|\[supervisor\] ready in/);
    } finally {
      await stop(run.child);
      await store.close();
    }
  }, 60_000);

  it('says nothing of the /health look it cut short: every server had started, the stack was not yet ready', async () => {
    // The gateway's look at the auth server is held here (taken, never answered), so the Ctrl-C comes while
    // npm start looks at the stack; the servers then close under that look, which says nothing of the stack.
    let looked = false;
    const held = createHttpServer((request) => {
      if (request.url === '/health') looked = true;
    });
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    const { port } = held.address() as { port: number };
    const run = await startSupervisor({ AUTH_SERVICE_URL: `http://127.0.0.1:${port}` }, { ownProcessGroup: true });
    try {
      await vi.waitFor(() => expect(looked).toBe(true), { timeout: 60_000, interval: 10 });
      const exited = once(run.child, 'exit') as Promise<[number | null]>;
      process.kill(-run.child.pid!, 'SIGINT');
      const [code] = await exited;
      expect(code).toBe(0);
      expect(run.output.trimEnd().split('\n').at(-1)).toMatch(/\[supervisor\] stopped \(SIGINT before the stack was ready\)$/);
      expect(run.output).not.toMatch(/all servers listen|\[supervisor\] ready in/);
    } finally {
      await stop(run.child);
      held.closeAllConnections();
      await new Promise((resolve) => held.close(resolve));
    }
  }, 60_000);
});
