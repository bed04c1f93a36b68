import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { loadAuthConfig } from '../../auth-server/src/config/auth-config.js';
import { loadEventConfig } from '../../event-server/src/config/event-config.js';
import { LISTEN_BACKLOG } from '@reward/server-kit/http-app';
import { loadGatewayConfig } from './config/gateway-config.js';

// What can be checked of docker-compose.yml and the Dockerfile without a Docker engine (none runs on CI):
// the shape a scaled, side-by-side deployment needs, and that each server accepts the settings Compose
// gives it. `docker compose config` would check the file against Compose's schema; these check our intent.

interface ComposeService {
  build?: { args?: Record<string, string | number> };
  environment?: Record<string, string | number>;
  ports?: string[];
  container_name?: string;
  networks?: string[] | Record<string, { ipv4_address?: string } | null>;
  healthcheck?: unknown;
  depends_on?: Record<string, { condition?: string; required?: boolean }>;
  profiles?: string[];
  sysctls?: Record<string, string | number>;
  ulimits?: { nofile?: { soft?: number; hard?: number } };
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  networks?: Record<string, { ipam?: unknown } | null>;
}

const compose = load(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8')) as ComposeFile;
const externalStore = load(
  readFileSync(new URL('../../docker-compose.external-store.yml', import.meta.url), 'utf8'),
) as ComposeFile;
const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');

/** A service's environment as Compose hands it over with no .env and nothing exported: `${X:-d}` is d. */
function environmentOf(service: string): Record<string, string> {
  const entries = Object.entries(compose.services[service]?.environment ?? {});
  return Object.fromEntries(entries.map(([name, value]) => [name, String(value).replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1')]));
}

describe('docker-compose.yml', () => {
  it('publishes the gateway alone', () => {
    const published = Object.entries(compose.services).filter(([, service]) => (service.ports ?? []).length > 0);
    expect(published.map(([name]) => name)).toEqual(['gateway']);
  });

  it('publishes it on loopback unless GATEWAY_PUBLISHED_ADDRESS opens it (the default stack has the default admin)', () => {
    const ports = compose.services.gateway?.ports ?? [];
    expect(ports).toEqual(['${GATEWAY_PUBLISHED_ADDRESS:-127.0.0.1}:${GATEWAY_PUBLISHED_PORT:-3000}:3000']);
    // What Compose binds with nothing set: host address, host port, container port.
    const bound = ports.map((port) => port.replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1'));
    expect(bound).toEqual(['127.0.0.1:3000:3000']);
  });

  it('fixes no subnet or address, which would collide with a network already on the host', () => {
    for (const network of Object.values(compose.networks ?? {})) expect(network?.ipam).toBeUndefined();
    for (const [name, service] of Object.entries(compose.services)) {
      const networks = Array.isArray(service.networks) ? [] : Object.values(service.networks ?? {});
      expect(
        networks.some((network) => network?.ipv4_address !== undefined),
        name,
      ).toBe(false);
      expect(service.container_name, name).toBeUndefined();
    }
  });

  it("takes the stack's database from COMPOSE_MONGODB_URI, never from a MONGODB_URI exported for npm start", () => {
    for (const service of ['auth', 'event-server']) {
      const uri = String(compose.services[service]?.environment?.MONGODB_URI);
      expect(uri, service).toBe('${COMPOSE_MONGODB_URI:-mongodb://mongo:27017/}');
    }
  });

  it('waits for its own mongo while it is in the stack, and may leave it out: no server requires it', () => {
    for (const service of ['auth', 'event-server']) {
      expect(compose.services[service]?.depends_on?.mongo, service).toEqual({ condition: 'service_healthy', required: false });
    }
  });

  it('on a store of your own (docker-compose.external-store.yml), neither starts nor waits for its mongo', () => {
    // What Compose makes of the two files with no profile active: each service's keys, the second file's
    // over the first's, and a service whose profiles are all inactive left out.
    expect(Object.keys(externalStore.services).sort()).toEqual(['auth', 'event-server', 'mongo']);
    const merged = Object.fromEntries(
      Object.entries(compose.services).map(([name, service]) => {
        const over = externalStore.services[name] ?? {};
        return [name, { ...service, ...over, environment: { ...service.environment, ...over.environment } }];
      }),
    );
    const inStack = Object.keys(merged).filter((name) => (merged[name]?.profiles ?? []).length === 0);
    expect(inStack.sort()).toEqual(['auth', 'event-server', 'gateway']);
    for (const [name, service] of Object.entries(merged).filter(([candidate]) => inStack.includes(candidate))) {
      for (const [dependency, how] of Object.entries(service.depends_on ?? {})) {
        // A dependency on a service left out must not be required, or Compose refuses the project.
        if (!inStack.includes(dependency)) expect(how.required, `${name} -> ${dependency}`).toBe(false);
      }
    }
    // Without COMPOSE_MONGODB_URI Compose refuses to start (${VAR:?message}), rather than use the absent mongo.
    for (const service of ['auth', 'event-server']) {
      expect(String(merged[service]?.environment?.MONGODB_URI), service).toMatch(/^\$\{COMPOSE_MONGODB_URI:\?[^}]+\}$/);
    }
  });

  it('names the servers by their service names, so any project name and any --scale works', () => {
    const gateway = environmentOf('gateway');
    const auth = environmentOf('auth');
    const event = environmentOf('event-server');
    expect(gateway.AUTH_SERVICE_URL).toBe(`http://auth:${auth.AUTH_PORT}`);
    // One name for every event-server replica: the gateway resolves it into each replica's address.
    expect(gateway.EVENT_SERVICE_URL).toBe(`http://event-server:${event.EVENT_PORT}`);
    expect(auth.EVENT_SERVICE_URL).toBe(`http://event-server:${event.EVENT_PORT}`);
    expect(event.AUTH_JWKS_URL).toBe(`http://auth:${auth.AUTH_PORT}/.well-known/jwks.json`);
    // Named here, so a URL in .env (every service's env_file, often written for npm start's loopback) never applies.
    expect(gateway.AUTH_JWKS_URL).toBe(`http://auth:${auth.AUTH_PORT}/.well-known/jwks.json`);
    // Only the gateway may speak for a client's address, named by its service (resolved, not fixed).
    expect(auth.AUTH_TRUSTED_PROXIES).toBe('gateway');
  });

  it("hands the auth server's secrets, which .env carries for it, to no other server", () => {
    for (const service of ['gateway', 'event-server']) {
      expect(environmentOf(service), service).toMatchObject({ JWT_PRIVATE_KEY: '', ADMIN_PASSWORD: '' });
    }
  });

  it("lets the gateway's listen queue hold the backlog it asks for (a launch crowd connects at once), and open the files its connections need", () => {
    // The kernel caps a listen backlog at net.core.somaxconn, which a container has its own of (4,096 by default).
    expect(Number(compose.services.gateway?.sysctls?.['net.core.somaxconn'])).toBeGreaterThanOrEqual(LISTEN_BACKLOG);
    // Client connections (10,000 by default) and upstream ones need a descriptor each.
    expect(compose.services.gateway?.ulimits?.nofile?.soft).toBeGreaterThanOrEqual(32_768);
  });

  it('gives each server settings it accepts, listening on every interface at the port its image was built for', () => {
    const gateway = loadGatewayConfig(environmentOf('gateway'));
    const auth = loadAuthConfig(environmentOf('auth'));
    const event = loadEventConfig(environmentOf('event-server'));
    expect([gateway.host, auth.host, event.host]).toEqual(['0.0.0.0', '0.0.0.0', '0.0.0.0']);
    expect(gateway.upstreamResolveIntervalMs).toBeGreaterThan(0);
    const builtFor = (service: string) => Number(compose.services[service]?.build?.args?.PORT);
    expect([gateway.port, auth.port, event.port]).toEqual([builtFor('gateway'), builtFor('auth'), builtFor('event-server')]);
  });
});

describe('Dockerfile', () => {
  it('builds in stages and runs as a non-root user with a healthcheck', () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^HEALTHCHECK /m);
    // The code stays root's: the user the server runs as cannot rewrite it.
    expect(runtime).not.toMatch(/--chown/);
  });

  it('refuses, saying how, a build without the server and its port (docker compose passes both)', () => {
    const guard = /^RUN (case "\$SERVICE"[\s\S]*?esac)\n/m.exec(dockerfile.replace(/\\\n/g, ''))?.[1];
    expect(guard).toBeDefined();
    const run = (env: Record<string, string>) => spawnSync('sh', ['-c', guard ?? 'exit 0'], { env, encoding: 'utf8' });
    expect(run({ SERVICE: 'gateway', PORT: '3000' }).status).toBe(0);
    for (const env of [
      { SERVICE: '', PORT: '3000' },
      { SERVICE: 'gateway', PORT: '' },
      { SERVICE: 'sdk', PORT: '3000' },
    ]) {
      const outcome = run(env);
      expect(outcome.status, JSON.stringify(env)).toBe(1);
      expect(outcome.stderr).toMatch(/--build-arg/);
    }
  });
});
